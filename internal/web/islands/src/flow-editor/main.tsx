// Entry point of the flow editor island. The page (templates/flow_edit.html)
// holds <div id="flow-editor" data-island data-workspace data-flow
// data-can-edit data-list-url>; this script loads the flow through the JSON
// API and mounts the editor there. Everything it needs comes from data attributes:
// the Content-Security-Policy allows no inline script.

import "@xyflow/react/dist/style.css";
import "./editor.css";

import { ReactFlowProvider } from "@xyflow/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { APIError, FlowAPI } from "./api";
import { Editor } from "./Editor";

async function mount(el: HTMLElement) {
  const ws = el.dataset.workspace ?? "";
  const flowID = el.dataset.flow ?? "";
  const api = new FlowAPI(ws, flowID);
  el.setAttribute("aria-busy", "true");
  let loaded;
  try {
    loaded = await api.load();
  } catch (e) {
    el.removeAttribute("aria-busy");
    const p = document.createElement("p");
    p.className = "alert alert-error";
    p.setAttribute("role", "alert");
    p.textContent = e instanceof APIError ? `The flow could not be loaded: ${e.message}` : "The flow could not be loaded. Reload the page to try again.";
    el.replaceChildren(p);
    return;
  }
  el.removeAttribute("aria-busy");
  el.classList.add("is-ready");
  el.replaceChildren();
  const root = createRoot(el);
  // When htmx swaps another page in, the editor is gone from the document:
  // unmount it, so its listeners (the unsaved-changes guard) go too.
  const gone = () => {
    if (el.isConnected) return;
    root.unmount();
    document.removeEventListener("htmx:afterSettle", gone);
  };
  document.addEventListener("htmx:afterSettle", gone);
  root.render(
    <StrictMode>
      <ReactFlowProvider>
        <Editor
          api={api}
          canEdit={el.dataset.canEdit === "true"}
          listURL={el.dataset.listUrl ?? "/"}
          flow={loaded.flow}
          draft={loaded.draft}
          problems={loaded.problems ?? []}
        />
      </ReactFlowProvider>
    </StrictMode>,
  );
}

function start() {
  const el = document.getElementById("flow-editor");
  if (el && !el.classList.contains("is-ready") && !el.hasAttribute("aria-busy")) void mount(el);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
// A page swapped in by htmx (a boosted link or form) after this module was
// loaded: mount its editor.
document.addEventListener("htmx:load", start);
