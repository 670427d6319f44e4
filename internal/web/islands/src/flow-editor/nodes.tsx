// The canvas cards: a step (one flow node, with a labelled handle per way
// out) and the "When…" card of the triggers. Both are plain HTML styled by
// editor.css: the Content-Security-Policy allows no inline styles, and
// React Flow positions them through the CSS object model, which it does
// allow.

import { Handle, Position, type NodeProps } from "@xyflow/react";
import { kindOf, NODE_TITLES, nodeSummary, outlets } from "./doc";
import { START_HANDLE, type StartNodeType, type StepNodeType } from "./graph";

export function StepCard({ data, selected }: NodeProps<StepNodeType>) {
  const n = data.node;
  const kind = kindOf(n.type);
  const summary = nodeSummary(n);
  const outs = outlets(n);
  const cls = ["fe-card", `fe-card--${n.type}`];
  if (selected) cls.push("is-selected");
  if (data.errors) cls.push("has-errors");
  else if (data.warnings) cls.push("has-warnings");
  return (
    <div className={cls.join(" ")} data-node-id={n.id}>
      <Handle type="target" position={Position.Left} className="fe-handle fe-handle--in" />
      <div className="fe-card__head">
        <span className="fe-card__icon" aria-hidden="true">
          {kind.icon}
        </span>
        <span className="fe-card__kind">{NODE_TITLES[n.type] ?? n.type}</span>
        {data.isStart && <span className="fe-pill fe-pill--start">First step</span>}
        {data.errors > 0 && (
          <span className="fe-pill fe-pill--error" title={`${data.errors} problem${data.errors > 1 ? "s" : ""} to fix`}>
            {data.errors} to fix
          </span>
        )}
      </div>
      {n.name ? <div className="fe-card__name">{n.name}</div> : null}
      <div className={summary ? "fe-card__summary" : "fe-card__summary is-empty"}>{summary || "Not set up yet"}</div>
      {data.stats && (
        <div className="fe-card__stats" aria-label="Statistics of the published version">
          <span title="Contacts who reached this step">▶ {data.stats.entered}</span>
          <span title="Contacts who went on">✓ {data.stats.completed}</span>
          <span title="Contacts who stopped here">✕ {data.stats.dropped}</span>
        </div>
      )}
      {outs.length > 0 && (
        <ul className="fe-card__outlets">
          {outs.map((o) => (
            <li key={o.field} className={o.target ? "fe-outlet is-linked" : "fe-outlet"}>
              <span className="fe-outlet__label">{o.label}</span>
              <Handle type="source" id={o.field} position={Position.Right} className="fe-handle fe-handle--out" title={`Drag to connect: ${o.label}`} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function StartCard({ data, selected }: NodeProps<StartNodeType>) {
  const cls = ["fe-card", "fe-card--start"];
  if (selected) cls.push("is-selected");
  if (data.errors) cls.push("has-errors");
  return (
    <div className={cls.join(" ")} data-node-id="start">
      <div className="fe-card__head">
        <span className="fe-card__icon" aria-hidden="true">
          ⚑
        </span>
        <span className="fe-card__kind">When…</span>
      </div>
      {data.summaries.length ? (
        <ul className="fe-card__triggers">
          {data.summaries.map((s, i) => (
            <li key={i}>{s}</li>
          ))}
        </ul>
      ) : (
        <div className="fe-card__summary is-empty">No trigger yet: the flow runs only when another flow goes to it.</div>
      )}
      <ul className="fe-card__outlets">
        <li className="fe-outlet is-linked">
          <span className="fe-outlet__label">Start with</span>
          <Handle type="source" id={START_HANDLE} position={Position.Right} className="fe-handle fe-handle--out" title="Drag to the first step" />
        </li>
      </ul>
    </div>
  );
}

export const nodeTypes = { step: StepCard, start: StartCard };
