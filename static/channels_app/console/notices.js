// What the console tells the agent outside the panels: the error banner and, for screen
// readers, the live region (a new offer, a reply that could not be delivered).
import { el } from "../../contactcenter/socket.js";

export function mountNotices({ dispatch }) {
  const banner = document.getElementById("error-banner");
  const announcer = document.getElementById("announcer");
  let shown = {};

  function render(state) {
    if (state.banner !== shown.banner) {
      banner.replaceChildren(
        ...(state.banner
          ? [
              el("p", {}, state.banner.message),
              el(
                "button",
                { type: "button", class: "button button--quiet", onclick: () => dispatch({ type: "ui.dismiss" }) },
                "Dismiss",
              ),
            ]
          : []),
      );
    }
    if (state.announcement && state.announcement !== shown.announcement) {
      announcer.textContent = state.announcement.text;
    }
    shown = { banner: state.banner, announcement: state.announcement };
  }

  return { render };
}
