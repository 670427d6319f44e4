// Placeholder for the flow editor island, served when the TypeScript
// bundle was not built (a checkout without Node). `make islands` builds the
// real editor into ../build/, which the dashboard then serves instead.
(function () {
  "use strict";
  var el = document.getElementById("flow-editor");
  if (!el) return;
  var p = document.createElement("p");
  p.className = "alert alert-warn";
  p.setAttribute("role", "status");
  p.textContent = "The flow editor is not built into this copy of Parley. Whoever runs it can build it with `make islands` (it needs Node.js) and start Parley again. Meanwhile, flows can be imported and exported as JSON files from the Flows page, or through the API.";
  el.replaceChildren(p);
})();
