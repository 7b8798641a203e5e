// Canned responses: their placeholders filled for one conversation. Pure.

const PLACEHOLDER = /\{(customer_name|first_name|case_number|agent_name)\}/g;

/** {customer_name}, {first_name}, {case_number}, {agent_name} filled from the work item and
 * the agent's name; other braces are left as they are. */
export function fillPlaceholders(body, data, agentName) {
  const values = {
    customer_name: data.customer_name || "",
    first_name: (data.customer_name || "").split(/\s+/)[0] || "",
    case_number: data.case_number || "",
    agent_name: agentName || "",
  };
  return body.replace(PLACEHOLDER, (_, key) => values[key]);
}

/** The draft with a canned text added on a line of its own. */
export function withCannedText(draft, text) {
  return draft ? `${draft}\n${text}` : text;
}
