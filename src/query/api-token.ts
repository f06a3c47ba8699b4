// What a bearer token of the API may look like, shared by the server (which
// refuses to start with a bad one) and the CLI (which reads it from a file or
// the environment), kept apart from both like api-path.ts. Printable ASCII
// without spaces: it travels in an HTTP header, where a newline or a control
// character would make fetch throw before anything is sent, which the CLI
// would then report as "cannot reach the API".
export const API_TOKEN_SYNTAX = "printable ASCII characters without spaces (e.g. `openssl rand -hex 32`)";

export const isApiTokenSyntax = (token: string): boolean => /^[\x21-\x7e]+$/.test(token);
