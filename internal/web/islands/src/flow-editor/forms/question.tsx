// The form of a question node: the question, what kind of answer it takes
// (with that kind's options), where the answer is saved and where each
// outcome leads.

import type { FlowNode } from "../types";
import { Ctx, ListEditor, NextStep, NumberInput, Obj, Select, Text, objs, put, s } from "./controls";

const ANSWERS = [
  { value: "text", label: "Any text" },
  { value: "email", label: "An e-mail address" },
  { value: "phone", label: "A phone number" },
  { value: "number", label: "A number" },
  { value: "date", label: "A date" },
  { value: "choice", label: "One of some choices" },
];

/** The members only some answer kinds take: dropped when the kind changes. */
const ANSWER_ONLY: Record<string, string[]> = {
  choices: ["choice"],
  region: ["phone"],
  date_order: ["date"],
  min: ["number"],
  max: ["number"],
};

export function QuestionForm({ node, set, ctx }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx }) {
  const ro = ctx.readOnly;
  const upd = (k: string, v: unknown) => set(put(node, k, v) as FlowNode);
  const answer = s(node.answer) || "text";
  const changeAnswer = (a: string) => {
    let n: Obj = { ...node, answer: a };
    for (const [k, kinds] of Object.entries(ANSWER_ONLY)) if (!kinds.includes(a)) n = put(n, k, undefined);
    if (a === "choice" && objs(n.choices).length === 0) n.choices = [{ title: "" }, { title: "" }];
    set(n as FlowNode);
  };
  return (
    <>
      <Text label="Question" name="text" multiline value={node.text} readOnly={ro} onChange={(v) => upd("text", v)} />
      <Select label="The answer must be" field="answer" value={answer} disabled={ro} options={ANSWERS} onChange={changeAnswer} />
      {answer === "choice" && (
        <ListEditor<Obj>
          legend="Choices"
          addLabel="Add a choice"
          max={13}
          readOnly={ro}
          items={objs(node.choices)}
          onChange={(v) => upd("choices", v)}
          make={() => ({ title: "" })}
          itemLabel={(c, i) => s(c.title) || `Choice ${i + 1}`}
          render={(c, setC) => (
            <>
              <Text label="Title" value={c.title} readOnly={ro} onChange={(v) => setC({ ...c, title: v })} />
              <Text label="Value saved (optional)" value={c.value} readOnly={ro} onChange={(v) => setC(put(c, "value", v))} hint="Leave empty to save the title." />
              <NextStep label="If chosen, go to (optional)" value={c.next} selfID={node.id} ctx={ctx} onChange={(v) => setC(put(c, "next", v))} />
            </>
          )}
        />
      )}
      {answer === "phone" && (
        <Text label="Country for numbers without +" field="region" value={node.region} placeholder="KH" readOnly={ro} onChange={(v) => upd("region", v.toUpperCase())} hint="Two letters, like KH. Empty: numbers must start with + and the country code." />
      )}
      {answer === "date" && (
        <Select
          label="Dates are written"
          value={s(node.date_order) || "dmy"}
          disabled={ro}
          options={[
            { value: "dmy", label: "day/month/year" },
            { value: "mdy", label: "month/day/year" },
          ]}
          onChange={(v) => upd("date_order", v === "dmy" ? undefined : v)}
        />
      )}
      {answer === "number" && (
        <div className="fe-row">
          <NumberInput label="At least" step="any" value={node.min} readOnly={ro} onChange={(v) => set({ ...node, min: v } as FlowNode)} />
          <NumberInput label="At most" step="any" value={node.max} readOnly={ro} onChange={(v) => set({ ...node, max: v } as FlowNode)} />
        </div>
      )}
      <Text label="If the answer is not right, say" field="retry" multiline value={node.retry} readOnly={ro} onChange={(v) => upd("retry", v)} hint="Empty: ask the question again." />
      <NumberInput label="Answers allowed" field="max_attempts" min={1} value={node.max_attempts} readOnly={ro} onChange={(v) => upd("max_attempts", v)} hint="Default 3." />
      <Text label="Save the answer to the custom field" field="field" list="fe-field-keys" value={node.field} readOnly={ro} onChange={(v) => upd("field", v.trim())} hint="The field's key, like email. Define fields in Settings → Custom fields." />
      <Text label="…or to the flow variable" field="var" value={node.var} readOnly={ro} onChange={(v) => upd("var", v.trim())} hint="Use it later as {{flow.var.NAME}}." />
      <Text label="Wait for an answer for" field="timeout" value={node.timeout} placeholder="1h" readOnly={ro} onChange={(v) => upd("timeout", v.trim())} hint="Like 30m, 2h or 1d. Empty: wait as long as it takes." />
      <NextStep label="When answered, go to" field="next" value={node.next} selfID={node.id} ctx={ctx} onChange={(v) => upd("next", v)} />
      <NextStep label="After too many wrong answers, go to" field="invalid_next" value={node.invalid_next} selfID={node.id} ctx={ctx} onChange={(v) => upd("invalid_next", v)} />
      <NextStep label="With no answer in time, go to" field="timeout_next" value={node.timeout_next} selfID={node.id} ctx={ctx} onChange={(v) => upd("timeout_next", v)} />
    </>
  );
}
