// Table cells the dashboard's panels share: durations that tick every second, and the row a
// table shows when it has nothing to list.
import { el } from "../../contactcenter/socket.js";
import { formatDuration } from "../../contactcenter/format.js";

/** The ticking cells of one panel, dropped whenever that panel is drawn again. */
export function tickerSet() {
  let tickers = [];
  return {
    clear() {
      tickers = [];
    },
    /** A cell showing secondsAt(now) as a duration; "—" when there is nothing to count. */
    cell(secondsAt, className = "") {
      const node = el("span", { class: className });
      if (secondsAt) tickers.push({ node, secondsAt });
      else node.textContent = "—";
      return node;
    },
    tick(now) {
      for (const { node, secondsAt } of tickers) node.textContent = formatDuration(secondsAt(now));
    },
  };
}

export function emptyRow(columns, text) {
  return el("tr", {}, el("td", { colspan: String(columns), class: "muted" }, text));
}
