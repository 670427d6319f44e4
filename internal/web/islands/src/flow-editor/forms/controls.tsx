// Small form controls shared by the node and trigger forms: labelled
// inputs (every input has a visible label), a picker of the next step, and
// a list editor with add, remove and reorder buttons.

import { useId, useState, type ReactNode } from "react";
import { nodeLabel } from "../doc";
import type { FlowNode } from "../types";

export interface Ctx {
  /** Every node of the document, for the next-step pickers. */
  nodes: FlowNode[];
  /** Known custom field keys, for suggestions. */
  fieldKeys: string[];
  readOnly: boolean;
}

export function Text(props: {
  label: string;
  value: unknown;
  onChange: (v: string) => void;
  hint?: ReactNode;
  multiline?: boolean;
  placeholder?: string;
  list?: string;
  readOnly?: boolean;
  autoFocus?: boolean;
  inputMode?: "text" | "numeric" | "decimal" | "url" | "email";
  name?: string;
  /** The member's path, matched by problems that name it. */
  field?: string;
}) {
  const id = useId();
  const v = typeof props.value === "string" ? props.value : props.value == null ? "" : String(props.value);
  return (
    <div className="fe-field">
      <label htmlFor={id}>{props.label}</label>
      {props.multiline ? (
        <textarea
          id={id}
          name={props.name}
          data-field={props.field ?? props.name}
          value={v}
          rows={3}
          placeholder={props.placeholder}
          readOnly={props.readOnly}
          autoFocus={props.autoFocus}
          aria-describedby={props.hint ? id + "-hint" : undefined}
          onChange={(e) => props.onChange(e.target.value)}
        />
      ) : (
        <input
          id={id}
          name={props.name}
          data-field={props.field ?? props.name}
          type="text"
          value={v}
          list={props.list}
          inputMode={props.inputMode}
          placeholder={props.placeholder}
          readOnly={props.readOnly}
          autoFocus={props.autoFocus}
          aria-describedby={props.hint ? id + "-hint" : undefined}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {props.hint && (
        <p className="fe-hint" id={id + "-hint"}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

/** A whole number; empty clears it. */
export function NumberInput(props: { label: string; value: unknown; onChange: (v: number | undefined) => void; hint?: string; readOnly?: boolean; min?: number; step?: string; field?: string }) {
  const id = useId();
  const v = typeof props.value === "number" ? String(props.value) : "";
  return (
    <div className="fe-field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        data-field={props.field}
        value={v}
        min={props.min}
        step={props.step ?? "1"}
        readOnly={props.readOnly}
        aria-describedby={props.hint ? id + "-hint" : undefined}
        onChange={(e) => {
          const s = e.target.value.trim();
          const n = Number(s);
          props.onChange(s === "" || Number.isNaN(n) ? undefined : n);
        }}
      />
      {props.hint && (
        <p className="fe-hint" id={id + "-hint"}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

export function Select(props: { label: string; value: string; options: { value: string; label: string }[]; onChange: (v: string) => void; disabled?: boolean; hint?: string; field?: string }) {
  const id = useId();
  return (
    <div className="fe-field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value} disabled={props.disabled} data-field={props.field} onChange={(e) => props.onChange(e.target.value)}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.hint && <p className="fe-hint">{props.hint}</p>}
    </div>
  );
}

export function Check(props: { label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean }) {
  const id = useId();
  return (
    <div className="fe-field fe-field--check">
      <input id={id} type="checkbox" checked={props.checked} disabled={props.disabled} onChange={(e) => props.onChange(e.target.checked)} />
      <label htmlFor={id}>{props.label}</label>
    </div>
  );
}

/**
 * Picks the step an edge leads to: the keyboard and phone way to connect
 * steps (on the canvas, drag from the dot instead).
 */
export function NextStep(props: { label: string; value: unknown; selfID: string; ctx: Ctx; onChange: (v: string) => void; field?: string }) {
  const id = useId();
  const v = typeof props.value === "string" ? props.value : "";
  const missing = v !== "" && !props.ctx.nodes.some((n) => n.id === v);
  return (
    <div className="fe-field fe-field--next">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={v} disabled={props.ctx.readOnly} data-field={props.field} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">— end the flow here —</option>
        {missing && <option value={v}>{v} (missing step)</option>}
        {props.ctx.nodes.map((n) => (
          <option key={n.id} value={n.id}>
            {n.id === props.selfID ? "This step again" : nodeLabel(n)} · {n.id}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A list of items with add, remove and move buttons. */
export function ListEditor<T>(props: {
  legend: string;
  items: T[];
  onChange: (items: T[]) => void;
  render: (item: T, set: (next: T) => void, index: number) => ReactNode;
  make: () => T;
  addLabel: string;
  max?: number;
  min?: number;
  readOnly: boolean;
  itemLabel: (item: T, index: number) => string;
}) {
  const { items, onChange } = props;
  const canAdd = !props.readOnly && (props.max === undefined || items.length < props.max);
  const set = (i: number, next: T) => onChange(items.map((x, j) => (j === i ? next : x)));
  const move = (i: number, d: number) => {
    const out = [...items];
    const [x] = out.splice(i, 1);
    out.splice(i + d, 0, x);
    onChange(out);
  };
  return (
    <fieldset className="fe-list">
      <legend>{props.legend}</legend>
      {items.length === 0 && <p className="fe-hint">None yet.</p>}
      <ol>
        {items.map((item, i) => (
          <li key={i} className="fe-list__item">
            <div className="fe-list__head">
              <span className="fe-list__title">{props.itemLabel(item, i)}</span>
              {!props.readOnly && (
                <span className="fe-list__tools">
                  <button type="button" className="fe-icon-button" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${props.itemLabel(item, i)} up`}>
                    ↑
                  </button>
                  <button type="button" className="fe-icon-button" disabled={i === items.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${props.itemLabel(item, i)} down`}>
                    ↓
                  </button>
                  <button
                    type="button"
                    className="fe-icon-button fe-icon-button--danger"
                    disabled={props.min !== undefined && items.length <= props.min}
                    onClick={() => onChange(items.filter((_, j) => j !== i))}
                    aria-label={`Remove ${props.itemLabel(item, i)}`}
                  >
                    ✕
                  </button>
                </span>
              )}
            </div>
            {props.render(item, (next) => set(i, next), i)}
          </li>
        ))}
      </ol>
      {canAdd && (
        <button type="button" className="button button-small" onClick={() => onChange([...items, props.make()])}>
          + {props.addLabel}
        </button>
      )}
    </fieldset>
  );
}

/** Words or phrases, one per line, edited as a list of strings. */
export function Lines(props: { label: string; value: unknown; onChange: (v: string[]) => void; hint?: string; readOnly?: boolean; name?: string }) {
  const id = useId();
  const arr = Array.isArray(props.value) ? (props.value as string[]) : [];
  // The text is kept as typed (blank lines while typing) and only the
  // non-empty lines go into the document.
  const [text, setText] = useState(arr.join("\n"));
  const joined = arr.join("\n");
  const shown = text.split("\n").filter((l) => l.trim()).join("\n") === joined ? text : joined;
  return (
    <div className="fe-field">
      <label htmlFor={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        rows={3}
        value={shown}
        readOnly={props.readOnly}
        aria-describedby={props.hint ? id + "-hint" : undefined}
        onChange={(e) => {
          setText(e.target.value);
          props.onChange(
            e.target.value
              .split("\n")
              .map((l) => l.trim())
              .filter((l) => l !== ""),
          );
        }}
      />
      {props.hint && (
        <p className="fe-hint" id={id + "-hint"}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

export type Obj = Record<string, unknown>;

export function objs(v: unknown): Obj[] {
  return Array.isArray(v) ? (v as Obj[]) : [];
}

export function s(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** Returns obj with member k set to v (removed when v is empty). */
export function put(obj: Obj, k: string, v: unknown): Obj {
  const out = { ...obj };
  if (v === undefined || v === "" || v === null || (Array.isArray(v) && v.length === 0) || v === false) delete out[k];
  else out[k] = v;
  return out;
}
