// Shown instead of a page when the API answers 401: one field for the token,
// exchanged once for the session cookie, then the page is drawn again.
import { login } from "./api.js";
import { h, show } from "./dom.js";

export function showLogin(retry: () => void): void {
  const input = h("input", { type: "password", name: "token", autocomplete: "current-password", required: true, id: "token" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { class: "login", id: "login" },
    h("h1", {}, "API token"),
    h("p", { class: "muted" }, "This API requires its token (the one `tcptrail` reads from --api-token-file or TCPTRAIL_API_TOKEN)."),
    h("label", { for: "token" }, "token "),
    input,
    h("button", { type: "submit" }, "Log in"),
    error,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void login(input.value).then((ok) => {
      if (ok) retry();
      else error.textContent = "That is not this API's token.";
    });
  });
  show(form);
  input.focus();
}
