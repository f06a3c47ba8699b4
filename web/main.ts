// The web view's entry point: picks the page from the address (the server
// answers index.html for each of these paths: src/query/server/routes/web.ts),
// and shows the login form whenever the API asks for its token.
import { isLoginRequired } from "./api.js";
import { h, show } from "./dom.js";
import { listPage } from "./list.js";
import { showLogin } from "./login.js";
import { timelinePage } from "./timeline-page.js";
import { tracePage } from "./trace-page.js";

function route(): Promise<void> {
  const path = location.pathname;
  const trace = /^\/trace\/([^/]+)$/.exec(path);
  if (trace) return tracePage(decodeURIComponent(trace[1]!));
  const socket = /^\/socket\/([^/]+)$/.exec(path);
  if (socket) return timelinePage(decodeURIComponent(socket[1]!));
  return listPage();
}

function render(): void {
  route().then(
    () => document.body.setAttribute("data-ready", "true"),
    (e: unknown) => {
      if (isLoginRequired(e)) return showLogin(render);
      show(h("p", { class: "error", role: "alert" }, `Could not load this page: ${(e as Error).message}`), h("p", {}, h("a", { href: "/" }, "← traces")));
      document.body.setAttribute("data-ready", "true");
    },
  );
}

render();
