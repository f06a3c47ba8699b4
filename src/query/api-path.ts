// Where the API lives under its base URL: shared by the server and the client,
// kept apart from both so the client never loads the server (fastify) with it.
export const API_PREFIX = "/api/v1";
