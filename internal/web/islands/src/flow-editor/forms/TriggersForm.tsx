// The "When…" panel: what starts the flow (its triggers) and its first step.

import { CHANNELS, KEYWORD_MODES, TRIGGER_KINDS, newTrigger, triggerMembers, triggerSummary } from "../doc";
import type { FlowDoc, Problem, Trigger, TriggerType } from "../types";
import { Check, Ctx, Lines, ListEditor, NextStep, NumberInput, Select, Text, put } from "./controls";

export function TriggersForm(props: { doc: FlowDoc; setDoc: (d: FlowDoc) => void; ctx: Ctx; problems: Problem[] }) {
  const { doc, setDoc, ctx } = props;
  const ro = ctx.readOnly;
  const triggers = doc.triggers ?? [];
  const setTriggers = (ts: Trigger[]) => setDoc({ ...doc, triggers: ts });
  const triggerProblems = props.problems.filter((p) => p.trigger_id || (!p.node_id && (p.field === "start" || p.field === "triggers")));
  return (
    <form className="fe-form" aria-label="When the flow starts" onSubmit={(e) => e.preventDefault()}>
      <h2 className="fe-form__title">
        <span aria-hidden="true">⚑</span> When the flow starts
      </h2>
      {triggerProblems.length > 0 && (
        <ul className="fe-problems fe-problems--inline">
          {triggerProblems.map((p, i) => (
            <li key={i} className={`fe-problem fe-problem--${p.severity}`}>
              {p.message}
            </li>
          ))}
        </ul>
      )}
      <ListEditor<Trigger>
        legend="Triggers (any of them starts the flow)"
        addLabel="Add a trigger"
        max={100}
        readOnly={ro}
        items={triggers}
        onChange={setTriggers}
        make={() => newTrigger(doc, "keyword")}
        itemLabel={(t) => triggerSummary(t)}
        render={(t, setT) => <TriggerFields t={t} setT={setT} ro={ro} />}
      />
      <NextStep label="The first step" field="start" value={doc.start} selfID="" ctx={ctx} onChange={(v) => setDoc({ ...doc, start: v })} />
    </form>
  );
}

function TriggerFields({ t, setT, ro }: { t: Trigger; setT: (t: Trigger) => void; ro: boolean }) {
  const changeType = (type: TriggerType) => {
    const keep = triggerMembers(type);
    const next: Trigger = { id: t.id, type };
    for (const k of keep) if (k !== "id" && k !== "type" && t[k] !== undefined) next[k] = t[k];
    if ((type === "keyword" || type === "comment") && !next.mode) next.mode = "contains";
    setT(next);
  };
  const channels = t.channels ?? [];
  return (
    <>
      <Select label="Starts when" value={t.type} disabled={ro} options={TRIGGER_KINDS.map((k) => ({ value: k.type, label: k.label }))} onChange={(v) => changeType(v as TriggerType)} />
      {(t.type === "keyword" || t.type === "comment") && (
        <>
          <Select label="The message" value={t.mode || "contains"} disabled={ro} options={KEYWORD_MODES.map((m) => ({ value: m.mode, label: m.label }))} onChange={(v) => setT({ ...t, mode: v })} />
          <Lines
            label={t.type === "comment" ? "Words (one per line; none: any comment)" : "Words or phrases (one per line)"}
            name="keywords"
            value={t.keywords}
            readOnly={ro}
            onChange={(v) => setT({ ...t, keywords: v })}
            hint="Any of them starts the flow. Case and accents don't matter; Khmer and Thai words are found inside sentences."
          />
          <Lines label="But not when the message has (optional)" value={t.exclude} readOnly={ro} onChange={(v) => setT(put(t, "exclude", v) as Trigger)} />
          {t.type === "comment" && <Lines label="Only on these posts (IDs, optional)" value={t.post_ids} readOnly={ro} onChange={(v) => setT(put(t, "post_ids", v) as Trigger)} />}
        </>
      )}
      {t.type === "payload" && <Text label="Payload" value={t.payload} readOnly={ro} onChange={(v) => setT(put(t, "payload", v.trim()) as Trigger)} hint="The payload of the button or quick reply, like MAIN_MENU." />}
      {t.type === "ref" && <Text label="Ref" value={t.ref} readOnly={ro} onChange={(v) => setT(put(t, "ref", v.trim()) as Trigger)} hint="From a link like m.me/yourpage?ref=summer-promo: write summer-promo." />}
      {t.type === "default" && (
        <Text label="At most once per contact every" value={t.cooldown} placeholder="24h" readOnly={ro} onChange={(v) => setT(put(t, "cooldown", v.trim()) as Trigger)} hint="Like 12h or 1d. Empty: every time." />
      )}
      <fieldset className="fe-group">
        <legend>On channels</legend>
        <div className="fe-days">
          {CHANNELS.map((c) => (
            <Check
              key={c}
              label={c === "webchat" ? "Website chat" : c[0].toUpperCase() + c.slice(1)}
              checked={channels.includes(c)}
              disabled={ro}
              onChange={(on) => setT(put(t, "channels", CHANNELS.filter((x) => (x === c ? on : channels.includes(x)))) as Trigger)}
            />
          ))}
        </div>
        <p className="fe-hint">None ticked: every channel.</p>
      </fieldset>
      <NumberInput label="Priority" value={t.priority} readOnly={ro} onChange={(v) => setT(put(t, "priority", v === 0 ? undefined : v) as Trigger)} hint="When triggers of several flows match, the highest priority wins (default 0)." />
    </>
  );
}
