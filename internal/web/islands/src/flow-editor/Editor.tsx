// The flow editor: a toolbar (name, save, publish), the canvas (or, on a
// narrow screen, a list of steps) and a side panel with the selected step's
// form, the problems and the preview. The document is the one source of
// truth: the canvas is drawn from it and every change goes back into it.

import {
  Background,
  Controls,
  Panel,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  useUpdateNodeInternals,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { APIError, type FlowAPI } from "./api";
import { clean, COLUMN, ROW, kindOf, layout, newNode, NODE_KINDS, nodeLabel, nodeSummary, outlets, setPath, triggerSummary, unlink } from "./doc";
import { NodeForm } from "./forms/NodeForm";
import { TriggersForm } from "./forms/TriggersForm";
import type { Ctx } from "./forms/controls";
import { edgeParts, START, toEdges, toNodes, type CanvasNode } from "./graph";
import { nodeTypes } from "./nodes";
import { Preview } from "./Preview";
import type { FieldDef, FlowDoc, FlowInfo, FlowNode, FlowStats, NodeType, Problem } from "./types";

export interface EditorProps {
  api: FlowAPI;
  canEdit: boolean;
  listURL: string;
  flow: FlowInfo;
  draft: FlowDoc;
  problems: Problem[];
}

type Tab = "edit" | "problems" | "preview";
type Notice = { kind: "info" | "success" | "error"; text: string } | null;

const NARROW = "(max-width: 760px)";

/** The smallest zoom at which the cards' text is comfortable to read. */
const READABLE = 0.8;

export function Editor(props: EditorProps) {
  const { api } = props;
  const [flow, setFlow] = useState(props.flow);
  const [doc, setDoc] = useState<FlowDoc>(() => layout(withDefaults(props.draft)));
  const [saved, setSaved] = useState(() => JSON.stringify(clean(withDefaults(props.draft))));
  const [problems, setProblems] = useState<Problem[]>(props.problems);
  const [problemsStale, setProblemsStale] = useState(false);
  const [selected, setSelected] = useState<string>("");
  const [selectedEdge, setSelectedEdge] = useState("");
  const [tab, setTab] = useState<Tab>("edit");
  const [notice, setNotice] = useState<Notice>(null);
  const [busy, setBusy] = useState<"" | "save" | "publish">("");
  const [measured, setMeasured] = useState<Record<string, { width: number; height: number }>>({});
  const [stats, setStats] = useState<FlowStats | null>(null);
  const [showStats, setShowStats] = useState(true);
  const [fields, setFields] = useState<FieldDef[]>([]);
  const [flows, setFlows] = useState<FlowInfo[]>([]);
  // A phone-sized screen starts with the list of steps; the canvas is one
  // tap away. (The choice is not changed behind the person's back when
  // the window is resized.)
  const [view, setView] = useState<"canvas" | "list">(() => (window.matchMedia(NARROW).matches ? "list" : "canvas"));
  const [focusForm, setFocusForm] = useState<string>("");
  const panelRef = useRef<HTMLDivElement>(null);
  const rf = useReactFlow();
  const updateNodeInternals = useUpdateNodeInternals();

  const readOnly = !props.canEdit || flow.status === "archived";
  const current = JSON.stringify(clean(doc));
  const dirty = current !== saved;

  // Reference data for the forms and the numbers of the published version.
  useEffect(() => {
    void api.fields().then(setFields);
    void api.flows().then(setFlows);
  }, [api]);
  const loadStats = useCallback(() => {
    if (!flow.published_version) return;
    api.stats().then(setStats, () => setStats(null));
  }, [api, flow.published_version]);
  useEffect(loadStats, [loadStats]);

  // Unsaved work is not lost silently: leaving the page (or following a
  // dashboard link, which htmx loads in place) asks first.
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  useEffect(() => {
    const leave = (e: BeforeUnloadEvent) => {
      if (dirtyRef.current) e.preventDefault();
    };
    const boosted = (e: Event) => {
      if (dirtyRef.current && !window.confirm("This flow has unsaved changes. Leave without saving them?")) e.preventDefault();
    };
    window.addEventListener("beforeunload", leave);
    document.addEventListener("htmx:beforeRequest", boosted);
    return () => {
      window.removeEventListener("beforeunload", leave);
      document.removeEventListener("htmx:beforeRequest", boosted);
    };
  }, []);

  // Moves keyboard focus into the form of a step that was just opened.
  useEffect(() => {
    if (!focusForm) return;
    // The field a problem names, else the step's main text, else the
    // first field of the form.
    const root = panelRef.current;
    const el =
      (focusForm !== "*" && root?.querySelector<HTMLElement>(`[data-field="${CSS.escape(focusForm)}"]`)) ||
      root?.querySelector<HTMLElement>('[name="text"], [name="keywords"]') ||
      root?.querySelector<HTMLElement>(".fe-tabpanel input, .fe-tabpanel select, .fe-tabpanel textarea");
    el?.focus();
    setFocusForm("");
  }, [focusForm, selected, tab]);

  const change = useCallback((next: FlowDoc) => {
    setDoc(next);
    setProblemsStale(true);
  }, []);

  const updateNode = useCallback(
    (n: FlowNode) => {
      change({ ...doc, nodes: doc.nodes.map((x) => (x.id === n.id ? n : x)) });
      // Outlets may have been added or removed: re-measure the handles.
      requestAnimationFrame(() => updateNodeInternals(n.id));
    },
    [doc, change, updateNodeInternals],
  );

  const deleteNode = useCallback(
    (d: FlowDoc, id: string): FlowDoc => ({
      ...d,
      start: d.start === id ? "" : d.start,
      nodes: d.nodes.filter((n) => n.id !== id).map((n) => unlink(n, id)),
    }),
    [],
  );

  const select = useCallback((id: string, open = false, field = "") => {
    setSelected(id);
    setSelectedEdge("");
    setTab("edit");
    if (open) setFocusForm(field || "*");
  }, []);

  const addNode = (t: NodeType) => {
    if (readOnly) return;
    // One column right of the selected step (the "When…" card sits at
    // 0,0), else of the last step added; below any step already there.
    const from = selected === START ? { x: 0, y: 0 } : doc.nodes.find((n) => n.id === selected)?.position;
    const last = doc.nodes.length ? doc.nodes[doc.nodes.length - 1].position : undefined;
    let pos = from ? { x: from.x + COLUMN, y: from.y } : last ? { x: last.x + COLUMN, y: last.y } : { x: COLUMN, y: 0 };
    while (doc.nodes.some((n) => n.position && Math.abs(n.position.x - pos.x) < COLUMN - 40 && Math.abs(n.position.y - pos.y) < 120)) pos = { x: pos.x, y: pos.y + ROW };
    const n = newNode(doc, t, pos);
    change({ ...doc, start: doc.start || n.id, nodes: [...doc.nodes, n] });
    select(n.id, true);
    if (view === "canvas") reveal(pos);
    setNotice({ kind: "info", text: doc.start ? `Added “${kindOf(t).label}”. Connect it: drag from a dot on the right of a step to it, or choose it under “Then go to”.` : `Added “${kindOf(t).label}” as the first step.` });
  };

  // Pans, at the same zoom, so that a step at p is in view.
  const reveal = (p: { x: number; y: number }) => {
    void rf.setCenter(p.x + 110, p.y + 60, { zoom: rf.getZoom() });
  };

  // ---- Canvas changes ----
  const onNodesChange = (changes: NodeChange<CanvasNode>[]) => {
    let d = doc;
    let m = measured;
    let sel = selected;
    let moved = false;
    for (const c of changes) {
      switch (c.type) {
        case "dimensions":
          if (c.dimensions) m = { ...m, [c.id]: c.dimensions };
          break;
        case "position":
          if (c.position && c.id !== START && !readOnly) {
            const p = { x: Math.round(c.position.x), y: Math.round(c.position.y) };
            d = { ...d, nodes: d.nodes.map((n) => (n.id === c.id ? { ...n, position: p } : n)) };
            moved = true;
          }
          break;
        // One batch may deselect the old step and select the new one, in
        // either order.
        case "select":
          if (c.selected) sel = c.id;
          else if (sel === c.id) sel = "";
          break;
        case "remove":
          if (c.id !== START && !readOnly) {
            d = deleteNode(d, c.id);
            if (sel === c.id) sel = "";
            setNotice({ kind: "info", text: `Deleted step ${c.id}.` });
          }
          break;
      }
    }
    if (sel !== selected) {
      setSelected(sel);
      if (sel) {
        setSelectedEdge("");
        setTab("edit");
      }
    }
    if (m !== measured) setMeasured(m);
    if (d !== doc) (moved && d.nodes.length === doc.nodes.length ? setDoc : change)(d);
  };

  const onEdgesChange = (changes: EdgeChange[]) => {
    let d = doc;
    let sel = selectedEdge;
    for (const c of changes) {
      if (c.type === "select") {
        if (c.selected) sel = c.id;
        else if (sel === c.id) sel = "";
      }
      if (c.type === "remove" && !readOnly) {
        const { source, field } = edgeParts(c.id);
        if (source === START) d = { ...d, start: "" };
        else d = { ...d, nodes: d.nodes.map((n) => (n.id === source ? setPath(n, field, "") : n)) };
        if (sel === c.id) sel = "";
      }
    }
    if (sel !== selectedEdge) setSelectedEdge(sel);
    if (d !== doc) change(d);
  };

  const onConnect = (c: Connection) => {
    if (readOnly || !c.sourceHandle || !c.target || c.target === START) return;
    if (c.source === START) {
      change({ ...doc, start: c.target });
      return;
    }
    change({ ...doc, nodes: doc.nodes.map((n) => (n.id === c.source ? setPath(n, c.sourceHandle!, c.target) : n)) });
  };

  // Dropping a connection anywhere on a step (not only on its dot)
  // connects to it: easier with a mouse, and on a touch screen.
  const onConnectEnd = (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (readOnly || state.isValid || !state.fromNode || !state.fromHandle?.id || state.fromHandle.type !== "source") return;
    const pt = "changedTouches" in event ? event.changedTouches[0] : event;
    if (!pt) return;
    const el = document.elementFromPoint(pt.clientX, pt.clientY)?.closest<HTMLElement>(".react-flow__node");
    const target = el?.dataset.id;
    if (target && target !== START) onConnect({ source: state.fromNode.id, sourceHandle: state.fromHandle.id, target, targetHandle: null });
  };

  // Enter on a focused step opens its form; the canvas's own keys select
  // (Space), move (arrows) and delete (Delete, Backspace).
  const onCanvasKey = (e: React.KeyboardEvent) => {
    if (e.key !== "Enter") return;
    const el = (e.target as HTMLElement).closest<HTMLElement>(".react-flow__node");
    if (!el?.dataset.id) return;
    e.preventDefault();
    select(el.dataset.id, true);
  };

  // Escape in the panel goes back to the step on the canvas.
  const onPanelKey = (e: React.KeyboardEvent) => {
    if (e.key !== "Escape" || !selected || view !== "canvas") return;
    document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(selected)}"]`)?.focus();
  };

  // The first view: the whole flow when it fits readably, else its
  // beginning (the "When…" card) at a readable size.
  const initialized = useNodesInitialized();
  const framed = useRef(false);
  useEffect(() => {
    if (view !== "canvas") framed.current = false;
    if (!initialized || framed.current || view !== "canvas") return;
    const box = document.querySelector(".fe-canvas")?.getBoundingClientRect();
    if (!box) return;
    framed.current = true;
    const left = 40;
    const pad = 30;
    const b = rf.getNodesBounds(rf.getNodes());
    const fit = Math.min(1, (box.width - left - pad) / Math.max(b.width, 1), (box.height - 2 * pad) / Math.max(b.height, 1));
    if (fit >= READABLE) {
      void rf.setViewport({ x: left + (box.width - left - pad - b.width * fit) / 2 - b.x * fit, y: (box.height - b.height * fit) / 2 - b.y * fit, zoom: fit });
      return;
    }
    const start = rf.getNode(START);
    const sy = (start?.position.y ?? 0) + (start?.measured?.height ?? 100) / 2;
    void rf.setViewport({ x: left - b.x * READABLE, y: box.height / 2 - sy * READABLE, zoom: READABLE });
  }, [initialized, view, rf]);

  // ---- Save and publish ----
  const save = async (quiet = false): Promise<boolean> => {
    setBusy("save");
    try {
      const body = JSON.parse(current) as FlowDoc;
      const r = await api.saveDraft(body);
      setFlow(r.flow);
      setSaved(current);
      setProblems(r.problems ?? []);
      setProblemsStale(false);
      if (!quiet) {
        const errs = (r.problems ?? []).filter((p) => p.severity === "error").length;
        setNotice({
          kind: "success",
          text: errs ? `Draft saved. ${errs} problem${errs > 1 ? "s" : ""} must be fixed before you can publish.` : "Draft saved. It is ready to publish.",
        });
      }
      return true;
    } catch (e) {
      showError(e, "The draft could not be saved.");
      return false;
    } finally {
      setBusy("");
    }
  };

  const publish = async () => {
    if (dirty && !(await save(true))) return;
    setBusy("publish");
    try {
      const r = await api.publish();
      setFlow(r.flow);
      setProblems((ps) => ps.filter((p) => p.severity !== "error"));
      setNotice({ kind: "success", text: `Published version ${r.version}. New conversations use it from now on; conversations already in this flow finish on the version they started with.` });
      setStats(null);
      loadStats();
    } catch (e) {
      showError(e, "The flow could not be published.");
    } finally {
      setBusy("");
    }
  };

  const showError = (e: unknown, fallback: string) => {
    if (e instanceof APIError) {
      if (e.problems.length) {
        setProblems(e.problems);
        setProblemsStale(false);
        setTab("problems");
        setNotice({ kind: "error", text: "Not published: fix the problems listed on the right, then publish again. Choose a problem to go to its step." });
        return;
      }
      setNotice({ kind: "error", text: e.message });
      return;
    }
    setNotice({ kind: "error", text: fallback });
  };

  const goToProblem = (p: Problem) => {
    if (p.node_id && doc.nodes.some((n) => n.id === p.node_id)) {
      const n = doc.nodes.find((x) => x.id === p.node_id)!;
      select(n.id, true, p.field ?? "");
      if (view === "canvas" && n.position) {
        const size = measured[n.id] ?? { width: 240, height: 120 };
        void rf.setCenter(n.position.x + size.width / 2, n.position.y + size.height / 2, { zoom: Math.max(rf.getZoom(), 0.9), duration: 300 });
      }
      return;
    }
    select(START, true, p.field === "start" ? "start" : "");
  };

  // ---- Drawing ----
  const summaries = useMemo(() => (doc.triggers ?? []).map(triggerSummary), [doc.triggers]);
  const nodes = useMemo(() => {
    const ns = toNodes(doc, selected, problems, summaries, showStats ? stats?.nodes : undefined);
    return ns.map((n) => ({
      ...n,
      measured: measured[n.id],
      draggable: !readOnly && n.id !== START,
      connectable: !readOnly,
    })) as CanvasNode[];
  }, [doc, selected, problems, summaries, stats, showStats, measured, readOnly]);
  const edges = useMemo(() => toEdges(doc, selectedEdge), [doc, selectedEdge]);

  const ctx: Ctx = { nodes: doc.nodes, fieldKeys: fields.map((f) => f.key), readOnly };
  const selectedNode = doc.nodes.find((n) => n.id === selected);
  const errorCount = problems.filter((p) => p.severity === "error").length;
  const warningCount = problems.length - errorCount;

  const statusBadge =
    flow.status === "archived" ? (
      <span className="badge badge-muted">Archived</span>
    ) : flow.published_version ? (
      <span className="badge badge-success">Published · version {flow.published_version}</span>
    ) : (
      <span className="badge">Draft, not published</span>
    );

  return (
    <div className="fe-editor">
      <header className="fe-toolbar">
        <div className="fe-toolbar__name">
          <label htmlFor="fe-flow-name" className="visually-hidden">
            Flow name
          </label>
          <input id="fe-flow-name" type="text" value={doc.name ?? ""} placeholder="Name this flow" readOnly={readOnly} onChange={(e) => change({ ...doc, name: e.target.value })} />
          {statusBadge}
        </div>
        <div className="fe-toolbar__actions">
          <span className={`fe-saved${dirty ? " is-dirty" : ""}`} role="status">
            {readOnly ? (props.canEdit ? "Archived: restore it to edit" : "View only") : dirty ? "Unsaved changes" : "All changes saved"}
          </span>
          {!readOnly && (
            <>
              <button type="button" className="button" id="fe-save" disabled={busy !== "" || !dirty} onClick={() => void save()}>
                {busy === "save" ? "Saving…" : "Save draft"}
              </button>
              <button
                type="button"
                className="button button-primary"
                id="fe-publish"
                disabled={busy !== "" || !(dirty || !flow.published_version || flow.unpublished_changes)}
                title={dirty || !flow.published_version || flow.unpublished_changes ? undefined : "The published version is up to date."}
                onClick={() => void publish()}
              >
                {busy === "publish" ? "Publishing…" : "Publish"}
              </button>
            </>
          )}
          <a className="button button-quiet" href={api.exportURL()} download>
            Export
          </a>
        </div>
      </header>
      {notice && (
        <div className={`fe-notice alert alert-${notice.kind === "info" ? "success" : notice.kind}`} role={notice.kind === "error" ? "alert" : "status"}>
          <span>{notice.text}</span>
          <button type="button" className="fe-icon-button" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ✕
          </button>
        </div>
      )}
      <div className="fe-body">
        <div className="fe-main">
          <div className="fe-viewbar">
            <div className="fe-viewbar__left">
              {!readOnly && <AddMenu onAdd={addNode} />}
              <div className="fe-switch" role="group" aria-label="Show the flow as">
                <button type="button" className={view === "canvas" ? "is-on" : ""} aria-pressed={view === "canvas"} onClick={() => setView("canvas")}>
                  Canvas
                </button>
                <button type="button" className={view === "list" ? "is-on" : ""} aria-pressed={view === "list"} onClick={() => setView("list")}>
                  List
                </button>
              </div>
            </div>
            {stats?.version && (
              <label className="fe-toggle">
                <input type="checkbox" checked={showStats} onChange={(e) => setShowStats(e.target.checked)} /> Show numbers of version {stats.version}
              </label>
            )}
          </div>
          {view === "canvas" ? (
            <div className="fe-canvas" onKeyDown={onCanvasKey}>
              <ReactFlow<CanvasNode>
                nodes={nodes}
                edges={edges}
                nodeTypes={nodeTypes}
                onNodesChange={onNodesChange}
                onEdgesChange={onEdgesChange}
                onConnect={onConnect}
                onConnectEnd={onConnectEnd}
                onNodeDoubleClick={(_, n) => select(n.id, true)}
                onPaneClick={() => {
                  setSelected("");
                  setSelectedEdge("");
                }}
                isValidConnection={(c) => c.target !== START && !!c.sourceHandle}
                deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
                nodesFocusable
                edgesFocusable
                nodesDraggable={!readOnly}
                nodesConnectable={!readOnly}
                connectionRadius={36}
                snapToGrid
                snapGrid={[10, 10]}
                minZoom={0.2}
                maxZoom={1.5}
                defaultEdgeOptions={{ type: "smoothstep" }}
              >
                <Background gap={20} />
                <Controls showInteractive={false} />
                {doc.nodes.length === 0 && (
                  <Panel position="bottom-center" className="fe-empty">
                    {readOnly ? "This flow has no steps." : "Start with “+ Add a step” above. The first step you add runs when the flow starts."}
                  </Panel>
                )}
              </ReactFlow>
            </div>
          ) : (
            <StepList doc={doc} selected={selected} problems={problems} onOpen={(id) => select(id, true)} />
          )}
        </div>
        <aside className="fe-panel" ref={panelRef} onKeyDown={onPanelKey} aria-label="Details">
          <div className="fe-tabs" role="tablist" aria-label="Side panel">
            <TabButton id="edit" tab={tab} setTab={setTab}>
              {selected === START ? "When…" : selectedNode ? "Step" : "Edit"}
            </TabButton>
            <TabButton id="problems" tab={tab} setTab={setTab}>
              Problems{" "}
              {errorCount > 0 ? <span className="fe-count fe-count--error">{errorCount}</span> : warningCount > 0 ? <span className="fe-count">{warningCount}</span> : null}
            </TabButton>
            <TabButton id="preview" tab={tab} setTab={setTab}>
              Try it
            </TabButton>
          </div>
          <div className="fe-tabpanel" role="tabpanel" id={`fe-tab-${tab}`} aria-labelledby={`fe-tabbtn-${tab}`}>
            {tab === "edit" &&
              (selected === START ? (
                <TriggersForm doc={doc} setDoc={change} ctx={ctx} problems={problems} />
              ) : selectedNode ? (
                <NodeForm
                  key={selectedNode.id}
                  node={selectedNode}
                  set={updateNode}
                  remove={() => {
                    change(deleteNode(doc, selectedNode.id));
                    setSelected("");
                    setNotice({ kind: "info", text: `Deleted step ${selectedNode.id}.` });
                  }}
                  ctx={ctx}
                  problems={problems.filter((p) => p.node_id === selectedNode.id)}
                  flows={flows}
                  flowID={flow.id}
                  isStart={doc.start === selectedNode.id}
                  makeStart={() => change({ ...doc, start: selectedNode.id })}
                />
              ) : (
                <div className="fe-help">
                  <h2 className="fe-form__title">Build your flow</h2>
                  <ol>
                    <li>
                      <button type="button" className="fe-link" onClick={() => select(START, true)}>
                        Choose what starts it
                      </button>{" "}
                      (the “When…” card): words in a message, a tapped button, a link…
                    </li>
                    <li>Add steps with “Add a step”, and fill in each step's form.</li>
                    <li>Connect steps: drag from the dot beside “Then” to the next step, or pick it in the form.</li>
                    <li>Test it under “Try it”, then Publish.</li>
                  </ol>
                  <p className="fe-hint">Keyboard: Tab moves between steps, Enter opens a step's form, Escape goes back, Delete removes the selected step or connection, arrow keys move it.</p>
                </div>
              ))}
            {tab === "problems" && (
              <Problems problems={problems} stale={problemsStale} errors={stats?.errors ?? []} doc={doc} onGo={goToProblem} />
            )}
            {tab === "preview" && <Preview api={api} doc={JSON.parse(current) as FlowDoc} onShowNode={(id) => select(id)} />}
          </div>
        </aside>
      </div>
      <datalist id="fe-field-keys">
        {fields.map((f) => (
          <option key={f.key} value={f.key}>
            {f.label ? `${f.label} (${f.type ?? "text"})` : f.key}
          </option>
        ))}
      </datalist>
      <p className="fe-back">
        <a href={props.listURL}>← All flows</a>
      </p>
    </div>
  );
}

function TabButton({ id, tab, setTab, children }: { id: Tab; tab: Tab; setTab: (t: Tab) => void; children: React.ReactNode }) {
  return (
    <button type="button" role="tab" id={`fe-tabbtn-${id}`} aria-selected={tab === id} aria-controls={`fe-tab-${id}`} className={tab === id ? "is-on" : ""} onClick={() => setTab(id)}>
      {children}
    </button>
  );
}

/** "+ Add a step": a menu of the node types, by mouse or keyboard. */
function AddMenu({ onAdd }: { onAdd: (t: NodeType) => void }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    ref.current?.querySelector<HTMLElement>("[data-add]")?.focus();
    const outside = (e: PointerEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);
  const onKey = (e: React.KeyboardEvent) => {
    const items = Array.from(ref.current?.querySelectorAll<HTMLElement>("[data-add]") ?? []);
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === "Escape" && open) {
      e.stopPropagation();
      setOpen(false);
      ref.current?.querySelector<HTMLElement>(".fe-add__toggle")?.focus();
    } else if (e.key === "ArrowDown" && items.length) {
      e.preventDefault();
      items[(i + 1) % items.length].focus();
    } else if (e.key === "ArrowUp" && items.length) {
      e.preventDefault();
      items[(i - 1 + items.length) % items.length].focus();
    }
  };
  return (
    <div className="fe-add" ref={ref} onKeyDown={onKey}>
      <button type="button" className="button button-primary button-small fe-add__toggle" aria-expanded={open} aria-controls="fe-add-list" onClick={() => setOpen(!open)}>
        + Add a step
      </button>
      {open && (
        <ul id="fe-add-list" className="fe-add__list" aria-label="Kinds of step">
          {NODE_KINDS.map((k) => (
            <li key={k.type}>
              <button
                type="button"
                data-add={k.type}
                onClick={() => {
                  setOpen(false);
                  onAdd(k.type);
                }}
              >
                <span className="fe-add__icon" aria-hidden="true">
                  {k.icon}
                </span>
                <span>
                  <span className="fe-add__label">{k.label}</span>
                  <span className="fe-add__help">{k.help}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The steps as a list: the phone-sized view, and a keyboard-first one. */
function StepList(props: { doc: FlowDoc; selected: string; problems: Problem[]; onOpen: (id: string) => void }) {
  const { doc } = props;
  const byID = new Map(doc.nodes.map((n) => [n.id, n]));
  return (
    <div className="fe-steplist">
      <ul>
        <li>
          <button type="button" className={`fe-stepbtn${props.selected === START ? " is-selected" : ""}`} onClick={() => props.onOpen(START)}>
            <span className="fe-stepbtn__kind">⚑ When…</span>
            <span className="fe-stepbtn__text">{(doc.triggers ?? []).map(triggerSummary).join("; ") || "No trigger yet"}</span>
            <span className="fe-stepbtn__next">→ {byID.get(doc.start) ? nodeLabel(byID.get(doc.start)!) : "no first step"}</span>
          </button>
        </li>
        {doc.nodes.map((n) => {
          const errs = props.problems.filter((p) => p.node_id === n.id && p.severity === "error").length;
          const outs = outlets(n).filter((o) => o.target);
          return (
            <li key={n.id}>
              <button type="button" className={`fe-stepbtn${props.selected === n.id ? " is-selected" : ""}${errs ? " has-errors" : ""}`} onClick={() => props.onOpen(n.id)}>
                <span className="fe-stepbtn__kind">
                  {kindOf(n.type).icon} {n.name || kindOf(n.type).label} <span className="fe-muted">· {n.id}</span>
                  {errs > 0 && <span className="fe-pill fe-pill--error">{errs} to fix</span>}
                </span>
                <span className="fe-stepbtn__text">{nodeSummary(n) || "Not set up yet"}</span>
                {outs.map((o) => (
                  <span key={o.field} className="fe-stepbtn__next">
                    {o.label} → {byID.get(o.target) ? nodeLabel(byID.get(o.target)!) : o.target}
                  </span>
                ))}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Problems(props: { problems: Problem[]; stale: boolean; errors: { node_id?: string; message: string; at?: string }[]; doc: FlowDoc; onGo: (p: Problem) => void }) {
  const { problems } = props;
  return (
    <div className="fe-problem-panel">
      <h2 className="fe-form__title">Problems</h2>
      {props.stale && <p className="fe-hint">You changed the flow since it was last checked: save the draft to check it again.</p>}
      {problems.length === 0 ? (
        <p className="fe-ok">No problems found.</p>
      ) : (
        <ul className="fe-problems" aria-label="Problems with this flow">
          {problems.map((p, i) => (
            <li key={i}>
              <button type="button" className={`fe-problem fe-problem--${p.severity}`} onClick={() => props.onGo(p)}>
                <span className="fe-problem__sev">{p.severity === "error" ? "Must fix" : "Check"}</span>
                <span className="fe-problem__msg">{p.message}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {props.errors.length > 0 && (
        <>
          <h3 className="fe-form__subtitle">Recent errors while running</h3>
          <ul className="fe-problems">
            {props.errors.map((e, i) => (
              <li key={i}>
                <button type="button" className="fe-problem fe-problem--error" onClick={() => props.onGo({ severity: "error", node_id: e.node_id, message: e.message })}>
                  <span className="fe-problem__sev">{e.at ? new Date(e.at).toLocaleString() : "Error"}</span>
                  <span className="fe-problem__msg">{e.message}</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** A draft as loaded: the format and lists present. */
function withDefaults(d: FlowDoc): FlowDoc {
  return { ...d, format: d.format || 1, start: d.start ?? "", nodes: d.nodes ?? [], triggers: d.triggers ?? [] };
}
