// The embeddable chat widget: one tag on any page,
//   <script src="https://CONTACT-CENTER/static/channels_app/widget.js" data-site-key="KEY" async></script>
// adds a "Chat with us" button that opens the chat in a frame served by the contact center.
// The frame is the only thing that talks to the contact center, and it may be shown only on
// the origins the site's admin listed (the server sends CSP frame-ancestors).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.siteKey) return;
  var base = new URL(script.src, location.href).origin;
  var key = script.dataset.siteKey;
  // Kept per tab, so that the widget is open again after a reload if it was open before, on
  // the same conversation (the frame cannot keep its token where browsers partition or block
  // a third-party frame's storage, so it hands it to this page).
  var OPEN_KEY = "cc-widget-open:" + key;
  var TOKEN_KEY = "cc-widget-resume:" + key;

  function load(name) {
    try {
      return sessionStorage.getItem(name);
    } catch (error) {
      return null;
    }
  }

  function store(name, value) {
    try {
      if (value) sessionStorage.setItem(name, value);
      else sessionStorage.removeItem(name);
    } catch (error) {
      // Storage may be blocked; the widget then starts afresh after a reload.
    }
  }

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = script.dataset.label || "Chat with us";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "cc-chat-widget");
  button.style.cssText =
    "position:fixed;right:1.25rem;bottom:1.25rem;z-index:2147483646;padding:.75rem 1.1rem;" +
    "border:0;border-radius:999px;background:#1f5fbf;color:#fff;font:600 15px/1.2 system-ui," +
    "sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer";

  var frame = document.createElement("iframe");
  frame.id = "cc-chat-widget";
  frame.title = "Chat with us";
  frame.hidden = true;
  frame.style.cssText =
    "position:fixed;right:1.25rem;bottom:4.75rem;z-index:2147483647;width:min(380px,calc(100vw - 2.5rem));" +
    "height:min(600px,calc(100vh - 6.5rem));border:1px solid #ccd;border-radius:12px;" +
    "background:#fff;box-shadow:0 8px 30px rgba(0,0,0,.25)";

  // A site whose shopper is signed in passes who they are, signed by its server:
  //   data-user-name, data-user-email, data-user-hash (hex HMAC-SHA256 of the lower-case email
  //   with the site's identity secret). Without a valid hash the visitor is unverified.
  function frameHash() {
    var params = new URLSearchParams();
    params.set("host", location.origin);
    var token = load(TOKEN_KEY);
    if (token) params.set("resume", token);
    ["name", "email", "hash"].forEach(function (field) {
      var value = script.dataset["user" + field.charAt(0).toUpperCase() + field.slice(1)];
      if (value) params.set(field, value);
    });
    return params.toString();
  }

  function setOpen(open) {
    if (open && !frame.src) {
      // The fragment never reaches a server: it only tells the frame's page.
      frame.src = base + "/chat/?site=" + encodeURIComponent(key) + "#" + frameHash();
    }
    frame.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "Close chat" : script.dataset.label || "Chat with us";
    store(OPEN_KEY, open ? "1" : null);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.type === "cc-chat-resume") store(TOKEN_KEY, data.token);
  });

  button.addEventListener("click", function () {
    setOpen(frame.hidden);
  });

  function mount() {
    document.body.appendChild(frame);
    document.body.appendChild(button);
    if (load(OPEN_KEY) === "1") setOpen(true);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
