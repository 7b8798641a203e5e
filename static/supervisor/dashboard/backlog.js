// The skills backlog: waiting work per required skill, and how many available agents have it.
import { el } from "../../contactcenter/socket.js";
import { emptyRow } from "./cells.js";

export function renderBacklog(state) {
  const backlog = state.snapshot.skills_backlog || [];
  document.getElementById("backlog-rows").replaceChildren(
    ...(backlog.length
      ? backlog.map((row) =>
          el(
            "tr",
            { "data-short": row.available_agents === 0 ? "true" : "false" },
            el("th", { scope: "row" }, row.skill),
            el("td", { class: "num" }, String(row.waiting)),
            el("td", { class: "num" }, String(row.available_agents)),
          ),
        )
      : [emptyRow(3, "No waiting work needs a skill.")]),
  );
}
