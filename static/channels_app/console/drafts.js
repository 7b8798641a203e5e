// Drafts and note mode kept in the browser, so that a reload or a crash does not lose a
// half-written reply. The keys are per agent and work item. No global here: the store is given
// a function that returns the storage (localStorage in the page, a stand-in in the node tests),
// since reaching the storage itself can throw where the browser blocks it.

const DRAFT_PREFIX = "cc-console-draft:";
const NOTE_PREFIX = "cc-console-note-mode:";

export function draftKey(agentId, workItemId) {
  return `${DRAFT_PREFIX}${agentId ?? "?"}:${workItemId}`;
}

export function noteModeKey(agentId, workItemId) {
  return `${NOTE_PREFIX}${agentId ?? "?"}:${workItemId}`;
}

/** Of these keys, this agent's drafts and note modes of conversations they no longer hold. */
export function staleKeys(keys, agentId, heldIds) {
  const prefixes = [`${DRAFT_PREFIX}${agentId}:`, `${NOTE_PREFIX}${agentId}:`];
  const held = new Set(heldIds);
  return keys.filter((key) => {
    const prefix = prefixes.find((candidate) => key.startsWith(candidate));
    return prefix !== undefined && !held.has(Number(key.slice(prefix.length)));
  });
}

/** Every call swallows storage errors (full, blocked): the draft then lives in the page only. */
export function draftStore(getStorage, getAgentId) {
  function attempt(use, fallback) {
    try {
      return use(getStorage());
    } catch {
      return fallback;
    }
  }
  const store = {
    keepDraft(id, text) {
      attempt((storage) => {
        if (text) storage.setItem(draftKey(getAgentId(), id), text);
        else storage.removeItem(draftKey(getAgentId(), id));
      });
    },
    keepNoteMode(id, on) {
      attempt((storage) => {
        if (on) storage.setItem(noteModeKey(getAgentId(), id), "1");
        else storage.removeItem(noteModeKey(getAgentId(), id));
      });
    },
    forget(id) {
      store.keepDraft(id, "");
      store.keepNoteMode(id, false);
    },
    /** {drafts: {id: text}, noteModes: {id: true}} of these work items, as kept. */
    saved(ids) {
      const drafts = {};
      const noteModes = {};
      for (const id of ids) {
        const draft = attempt((storage) => storage.getItem(draftKey(getAgentId(), id)), null);
        if (draft) drafts[id] = draft;
        if (attempt((storage) => storage.getItem(noteModeKey(getAgentId(), id)) === "1", false)) noteModes[id] = true;
      }
      return { drafts, noteModes };
    },
    /** Drafts of conversations this agent no longer holds (closed elsewhere, transferred). */
    dropStale(heldIds) {
      const agentId = getAgentId();
      if (agentId === null || agentId === undefined) return;
      attempt((storage) => {
        const keys = Array.from({ length: storage.length }, (_, index) => storage.key(index));
        for (const key of staleKeys(keys, agentId, heldIds)) storage.removeItem(key);
      });
    },
  };
  return store;
}
