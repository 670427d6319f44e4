// The forms of the branching nodes: a condition (branches of rules, an
// "otherwise") and a random split (weighted paths).

import { branchSummary } from "../doc";
import type { FlowNode } from "../types";
import { Check, Ctx, ListEditor, NextStep, NumberInput, Obj, Select, Text, objs, put, s } from "./controls";

const SUBJECTS = [
  { value: "tag", label: "The contact's tags" },
  { value: "field", label: "A custom field" },
  { value: "contact", label: "The contact's details" },
  { value: "channel", label: "The channel" },
  { value: "business_hours", label: "Opening hours" },
];

const OPS_BY_SUBJECT: Record<string, { value: string; label: string }[]> = {
  tag: [
    { value: "exists", label: "has the tag" },
    { value: "not_exists", label: "does not have the tag" },
  ],
  field: [
    { value: "eq", label: "is" },
    { value: "neq", label: "is not" },
    { value: "contains", label: "contains" },
    { value: "gt", label: "is more than" },
    { value: "lt", label: "is less than" },
    { value: "exists", label: "is set" },
    { value: "not_exists", label: "is empty" },
  ],
  contact: [
    { value: "eq", label: "is" },
    { value: "neq", label: "is not" },
    { value: "contains", label: "contains" },
    { value: "exists", label: "is set" },
    { value: "not_exists", label: "is empty" },
  ],
  channel: [
    { value: "eq", label: "is" },
    { value: "neq", label: "is not" },
  ],
  business_hours: [
    { value: "open", label: "we are open now" },
    { value: "closed", label: "we are closed now" },
  ],
};

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES: Record<string, string> = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };

/** A fresh rule of a subject, with only the members that subject takes. */
function newRule(subject: string): Obj {
  switch (subject) {
    case "tag":
      return { subject, key: "", op: "exists" };
    case "channel":
      return { subject, op: "eq", value: "messenger" };
    case "business_hours":
      return { subject, op: "open", hours: { weekly: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00" }] } };
    case "contact":
      return { subject, key: "first_name", op: "exists" };
  }
  return { subject, key: "", op: "eq", value: "" };
}

export function ConditionForm({ node, set, ctx }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx }) {
  const ro = ctx.readOnly;
  const upd = (k: string, v: unknown) => set(put(node, k, v) as FlowNode);
  return (
    <>
      <ListEditor<Obj>
        legend="Branches (the first that holds is taken)"
        addLabel="Add a branch"
        min={1}
        readOnly={ro}
        items={objs(node.branches)}
        onChange={(v) => upd("branches", v)}
        make={() => ({ match: "all", rules: [newRule("tag")] })}
        itemLabel={(b, i) => `Branch ${i + 1}` + (branchSummary(b) ? `: ${branchSummary(b)}` : "")}
        render={(b, setB) => (
          <>
            <Select
              label="Take this branch when"
              value={s(b.match) || "all"}
              disabled={ro}
              options={[
                { value: "all", label: "all rules hold" },
                { value: "any", label: "any rule holds" },
              ]}
              onChange={(v) => setB({ ...b, match: v })}
            />
            <ListEditor<Obj>
              legend="Rules"
              addLabel="Add a rule"
              min={1}
              readOnly={ro}
              items={objs(b.rules)}
              onChange={(v) => setB({ ...b, rules: v })}
              make={() => newRule("tag")}
              itemLabel={(_, i) => `Rule ${i + 1}`}
              render={(r, setR) => <RuleFields r={r} setR={setR} ctx={ctx} />}
            />
            <NextStep label="Then go to" value={b.next} selfID={node.id} ctx={ctx} onChange={(v) => setB(put(b, "next", v))} />
          </>
        )}
      />
      <NextStep label="Otherwise, go to" field="else" value={node.else} selfID={node.id} ctx={ctx} onChange={(v) => upd("else", v)} />
    </>
  );
}

function RuleFields({ r, setR, ctx }: { r: Obj; setR: (r: Obj) => void; ctx: Ctx }) {
  const ro = ctx.readOnly;
  const subject = s(r.subject) || "tag";
  const ops = OPS_BY_SUBJECT[subject] ?? [];
  const op = s(r.op) || ops[0]?.value || "";
  const needsValue = (subject === "field" || subject === "contact") && op !== "exists" && op !== "not_exists";
  return (
    <>
      <Select label="Look at" value={subject} disabled={ro} options={SUBJECTS} onChange={(v) => setR(newRule(v))} />
      {subject === "tag" && <Text label="Tag" value={r.key} readOnly={ro} onChange={(v) => setR({ ...r, key: v })} />}
      {subject === "field" && <Text label="Field key" list="fe-field-keys" value={r.key} readOnly={ro} onChange={(v) => setR({ ...r, key: v.trim() })} />}
      {subject === "contact" && (
        <Select
          label="Detail"
          value={s(r.key) || "first_name"}
          disabled={ro}
          options={[
            { value: "first_name", label: "First name" },
            { value: "last_name", label: "Last name" },
            { value: "locale", label: "Language (locale)" },
          ]}
          onChange={(v) => setR({ ...r, key: v })}
        />
      )}
      <Select label="Condition" value={op} disabled={ro} options={ops} onChange={(v) => setR(put({ ...r, op: v }, "value", v === "exists" || v === "not_exists" ? undefined : r.value))} />
      {needsValue && <Text label="Value" value={r.value} readOnly={ro} onChange={(v) => setR({ ...r, value: v })} />}
      {subject === "channel" && (
        <Select
          label="Channel"
          value={s(r.value) || "messenger"}
          disabled={ro}
          options={[
            { value: "messenger", label: "Messenger" },
            { value: "instagram", label: "Instagram" },
            { value: "whatsapp", label: "WhatsApp" },
            { value: "webchat", label: "Website chat" },
          ]}
          onChange={(v) => setR({ ...r, value: v })}
        />
      )}
      {subject === "business_hours" && <HoursFields hours={(r.hours as Obj) ?? { weekly: [] }} setHours={(h) => setR({ ...r, hours: h })} ro={ro} />}
    </>
  );
}

function HoursFields({ hours, setHours, ro }: { hours: Obj; setHours: (h: Obj) => void; ro: boolean }) {
  return (
    <>
      <Text label="Time zone" value={hours.time_zone} placeholder="Asia/Phnom_Penh" readOnly={ro} onChange={(v) => setHours(put(hours, "time_zone", v.trim()))} hint="Empty: the workspace's time zone." />
      <ListEditor<Obj>
        legend="Opening hours"
        addLabel="Add opening hours"
        readOnly={ro}
        items={objs(hours.weekly)}
        onChange={(v) => setHours({ ...hours, weekly: v })}
        make={() => ({ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:00" })}
        itemLabel={(iv) => `${(Array.isArray(iv.days) ? (iv.days as string[]) : []).map((d) => DAY_NAMES[d] ?? d).join(", ") || "No days"} ${s(iv.from)}–${s(iv.to)}`}
        render={(iv, setIv) => {
          const days = Array.isArray(iv.days) ? (iv.days as string[]) : [];
          return (
            <>
              <div className="fe-days" role="group" aria-label="Days">
                {DAYS.map((d) => (
                  <Check
                    key={d}
                    label={DAY_NAMES[d]}
                    checked={days.includes(d)}
                    disabled={ro}
                    onChange={(on) => setIv({ ...iv, days: DAYS.filter((x) => (x === d ? on : days.includes(x))) })}
                  />
                ))}
              </div>
              <div className="fe-row">
                <Text label="From" value={iv.from} placeholder="09:00" readOnly={ro} onChange={(v) => setIv({ ...iv, from: v.trim() })} />
                <Text label="To" value={iv.to} placeholder="17:00" readOnly={ro} onChange={(v) => setIv({ ...iv, to: v.trim() })} />
              </div>
            </>
          );
        }}
      />
    </>
  );
}

export function RandomizerForm({ node, set, ctx }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx }) {
  const ro = ctx.readOnly;
  return (
    <ListEditor<Obj>
      legend="Paths"
      addLabel="Add a path"
      min={2}
      max={10}
      readOnly={ro}
      items={objs(node.branches)}
      onChange={(v) => set(put(node, "branches", v) as FlowNode)}
      make={() => ({ weight: 1 })}
      itemLabel={(_, i) => `Path ${String.fromCharCode(65 + (i % 26))}`}
      render={(b, setB) => (
        <>
          <NumberInput label="Share (weight)" min={1} value={b.weight} readOnly={ro} onChange={(v) => setB({ ...b, weight: v })} hint="1 and 3 split 25 % / 75 %." />
          <NextStep label="Go to" value={b.next} selfID={node.id} ctx={ctx} onChange={(v) => setB(put(b, "next", v))} />
        </>
      )}
    />
  );
}
