// The forms of action, delay, http, handoff, go-to-flow and AI answer
// nodes.

import { useState } from "react";
import { actionSummary } from "../doc";
import type { FlowInfo, FlowNode } from "../types";
import { Check, Ctx, ListEditor, NextStep, Obj, Select, Text, objs, put, s } from "./controls";

const ACTIONS = [
  { value: "add_tag", label: "Add a tag" },
  { value: "remove_tag", label: "Remove a tag" },
  { value: "set_field", label: "Set a custom field" },
  { value: "clear_field", label: "Clear a custom field" },
  { value: "set_stage", label: "Set the lead stage" },
  { value: "subscribe", label: "Subscribe to broadcasts" },
  { value: "unsubscribe", label: "Unsubscribe from broadcasts" },
  { value: "notify_team", label: "Notify the team" },
  { value: "resolve", label: "Mark the conversation resolved" },
];

export function ActionForm({ node, set, ctx }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx }) {
  const ro = ctx.readOnly;
  const upd = (k: string, v: unknown) => set(put(node, k, v) as FlowNode);
  return (
    <>
      <ListEditor<Obj>
        legend="Do these, in order"
        addLabel="Add an action"
        min={1}
        max={20}
        readOnly={ro}
        items={objs(node.actions)}
        onChange={(v) => upd("actions", v)}
        make={() => ({ type: "add_tag", tag: "" })}
        itemLabel={(a) => actionSummary(a)}
        render={(a, setA) => {
          const t = s(a.type);
          return (
            <>
              {/* A new type starts from scratch: each type takes its own members. */}
              <Select label="Action" value={t} disabled={ro} options={ACTIONS} onChange={(v) => setA({ type: v })} />
              {(t === "add_tag" || t === "remove_tag") && <Text label="Tag" value={a.tag} readOnly={ro} onChange={(v) => setA({ ...a, tag: v })} />}
              {(t === "set_field" || t === "clear_field") && (
                <Text label="Field key" list="fe-field-keys" value={a.field} readOnly={ro} onChange={(v) => setA({ ...a, field: v.trim() })} />
              )}
              {t === "set_field" && <Text label="Value" value={a.value} readOnly={ro} onChange={(v) => setA(put(a, "value", v))} hint="May hold variables, like {{flow.var.size}}." />}
              {t === "set_stage" && <Text label="Stage" value={a.stage} readOnly={ro} onChange={(v) => setA({ ...a, stage: v })} />}
              {(t === "subscribe" || t === "unsubscribe") && (
                <Text label="Topic (optional)" value={a.topic} readOnly={ro} onChange={(v) => setA(put(a, "topic", v))} hint="Empty: all broadcasts." />
              )}
              {t === "notify_team" && (
                <>
                  <Text label="Team (optional)" value={a.team} readOnly={ro} onChange={(v) => setA(put(a, "team", v))} />
                  <Text label="Note" multiline value={a.text} readOnly={ro} onChange={(v) => setA(put(a, "text", v))} />
                </>
              )}
            </>
          );
        }}
      />
      <NextStep label="Then go to" field="next" value={node.next} selfID={node.id} ctx={ctx} onChange={(v) => upd("next", v)} />
    </>
  );
}

export function DelayForm({ node, set, ctx }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx }) {
  const ro = ctx.readOnly;
  const upd = (k: string, v: unknown) => set(put(node, k, v) as FlowNode);
  return (
    <>
      <Text label="Wait for" field="duration" value={node.duration} placeholder="1h" readOnly={ro} onChange={(v) => upd("duration", v.trim())} hint="Like 30s, 15m, 2h, 1d or 1d12h." />
      <Check label="Stop waiting (and end the flow) if the contact writes" checked={node.cancel_on_reply === true} disabled={ro} onChange={(v) => upd("cancel_on_reply", v)} />
      <NextStep label="Then go to" field="next" value={node.next} selfID={node.id} ctx={ctx} onChange={(v) => upd("next", v)} />
    </>
  );
}

export function HTTPForm({ node, set, ctx }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx }) {
  const ro = ctx.readOnly;
  const upd = (k: string, v: unknown) => set(put(node, k, v) as FlowNode);
  const method = s(node.method) || "GET";
  const hasBody = method !== "GET" && method !== "DELETE";
  return (
    <>
      <Select
        label="Method"
        field="method"
        value={method}
        disabled={ro}
        options={["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => ({ value: m, label: m }))}
        onChange={(v) => set(put({ ...node, method: v }, "body", v === "GET" || v === "DELETE" ? undefined : node.body) as FlowNode)}
      />
      <Text label="Address" field="url" inputMode="url" value={node.url} readOnly={ro} onChange={(v) => upd("url", v.trim())} hint="https://… Variables may appear after the host. Private and internal addresses are refused." />
      <ListEditor<Obj>
        legend="Headers"
        addLabel="Add a header"
        readOnly={ro}
        items={objs(node.headers)}
        onChange={(v) => upd("headers", v)}
        make={() => ({ name: "", value: "" })}
        itemLabel={(h, i) => s(h.name) || `Header ${i + 1}`}
        render={(h, setH) => (
          <>
            <Text label="Name" value={h.name} readOnly={ro} onChange={(v) => setH({ ...h, name: v.trim() })} />
            <Text
              label="Value"
              value={h.value}
              readOnly={ro}
              placeholder={h.secret ? "(kept secret: type to replace)" : ""}
              onChange={(v) => setH({ ...h, value: v })}
            />
            <Check label="Secret (stored encrypted, left out of exports)" checked={h.secret === true} disabled={ro} onChange={(v) => setH(put(h, "secret", v))} />
          </>
        )}
      />
      {hasBody && <BodyField key={node.id} value={node.body} readOnly={ro} onChange={(v) => upd("body", v)} />}
      <Text label="Give up after" field="timeout" value={node.timeout} placeholder="10s" readOnly={ro} onChange={(v) => upd("timeout", v.trim())} hint="At most 30s." />
      <ListEditor<Obj>
        legend="Save parts of the answer"
        addLabel="Add a mapping"
        readOnly={ro}
        items={objs(node.map)}
        onChange={(v) => upd("map", v)}
        make={() => ({ path: "" })}
        itemLabel={(m, i) => s(m.path) || `Mapping ${i + 1}`}
        render={(m, setM) => (
          <>
            <Text label="Path in the answer" value={m.path} placeholder="order.status" readOnly={ro} onChange={(v) => setM({ ...m, path: v.trim() })} />
            <Text label="To the custom field" list="fe-field-keys" value={m.field} readOnly={ro} onChange={(v) => setM(put(m, "field", v.trim()))} />
            <Text label="…or the flow variable" value={m.var} readOnly={ro} onChange={(v) => setM(put(m, "var", v.trim()))} />
          </>
        )}
      />
      <NextStep label="If it worked, go to" field="next" value={node.next} selfID={node.id} ctx={ctx} onChange={(v) => upd("next", v)} />
      <NextStep label="If it failed, go to" field="failure_next" value={node.failure_next} selfID={node.id} ctx={ctx} onChange={(v) => upd("failure_next", v)} />
    </>
  );
}

/** A JSON body, kept as typed until it parses. */
function BodyField({ value, readOnly, onChange }: { value: unknown; readOnly: boolean; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 2));
  const [err, setErr] = useState("");
  return (
    <div className="fe-field">
      <label htmlFor="fe-http-body">Body (JSON)</label>
      <textarea
        id="fe-http-body"
        rows={5}
        className="fe-mono"
        value={text}
        readOnly={readOnly}
        aria-invalid={err ? true : undefined}
        aria-describedby="fe-http-body-hint"
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) {
            setErr("");
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setErr("");
          } catch {
            setErr("This is not valid JSON yet; the last valid body is kept.");
          }
        }}
      />
      {err ? (
        <p className="fe-error" id="fe-http-body-hint">
          {err}
        </p>
      ) : (
        <p className="fe-hint" id="fe-http-body-hint">
          Variables in its texts are replaced, like {"{{contact.field.email}}"}.
        </p>
      )}
    </div>
  );
}

export function HandoffForm({ node, set, ctx, ai }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx; ai?: boolean }) {
  return (
    <>
      {ai && <p className="fe-note">The AI agent is not available yet: until it is, this step hands the conversation to a person.</p>}
      <Text label="Team (optional)" value={node.team} readOnly={ctx.readOnly} onChange={(v) => set(put(node, "team", v.trim()) as FlowNode)} hint="Empty: anyone on your team." />
      <p className="fe-hint">The flow stops here, and automation stays quiet while a person handles the conversation.</p>
    </>
  );
}

export function GotoForm({ node, set, ctx, flows, selfFlow }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx; flows: FlowInfo[]; selfFlow: string }) {
  const v = s(node.flow);
  const options = [{ value: "", label: "— choose a flow —" }, ...flows.filter((f) => f.id !== selfFlow).map((f) => ({ value: f.id, label: f.name || f.id }))];
  if (v && !options.some((o) => o.value === v)) options.push({ value: v, label: `${v} (not found)` });
  return (
    <>
      <Select label="Continue in the flow" field="flow" value={v} disabled={ctx.readOnly} options={options} onChange={(x) => set(put(node, "flow", x) as FlowNode)} />
      <p className="fe-hint">This flow stops, and the chosen flow's published version starts at its first step.</p>
    </>
  );
}
