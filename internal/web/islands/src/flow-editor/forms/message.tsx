// The form of a message node: text, quick replies, buttons, cards and an
// attachment, each tap with the step it leads to.

import type { FlowNode } from "../types";
import { Ctx, ListEditor, NextStep, Obj, Select, Text, objs, put, s } from "./controls";

const VARS_HINT = "Use {{contact.first_name|there}} for the contact's first name (“there” when unknown), or {{contact.field.KEY}} for a custom field.";

export function MessageForm({ node, set, ctx }: { node: FlowNode; set: (n: FlowNode) => void; ctx: Ctx }) {
  const ro = ctx.readOnly;
  const upd = (k: string, v: unknown) => set(put(node, k, v) as FlowNode);
  const attachment = node.attachment as Obj | undefined;
  return (
    <>
      <Text label="Message" name="text" multiline value={node.text} readOnly={ro} onChange={(v) => upd("text", v)} hint={VARS_HINT} />
      <ListEditor<Obj>
        legend="Quick replies"
        addLabel="Add a quick reply"
        max={13}
        readOnly={ro}
        items={objs(node.quick_replies)}
        onChange={(v) => upd("quick_replies", v)}
        make={() => ({ title: "" })}
        itemLabel={(q, i) => s(q.title) || `Quick reply ${i + 1}`}
        render={(q, setQ) => (
          <>
            <Text label="Title" value={q.title} readOnly={ro} onChange={(v) => setQ({ ...q, title: v })} hint="Up to 20 characters show in full." />
            <NextStep label="When tapped, go to" value={q.next} selfID={node.id} ctx={ctx} onChange={(v) => setQ(put(q, "next", v))} />
          </>
        )}
      />
      <ListEditor<Obj>
        legend="Buttons"
        addLabel="Add a button"
        max={3}
        readOnly={ro}
        items={objs(node.buttons)}
        onChange={(v) => upd("buttons", v)}
        make={() => ({ type: "postback", title: "" })}
        itemLabel={(b, i) => s(b.title) || `Button ${i + 1}`}
        render={(b, setB) => <ButtonFields b={b} setB={setB} node={node} ctx={ctx} />}
      />
      <ListEditor<Obj>
        legend="Cards (a carousel)"
        addLabel="Add a card"
        max={10}
        readOnly={ro}
        items={objs(node.cards)}
        onChange={(v) => upd("cards", v)}
        make={() => ({ title: "" })}
        itemLabel={(c, i) => s(c.title) || `Card ${i + 1}`}
        render={(c, setC) => (
          <>
            <Text label="Title" value={c.title} readOnly={ro} onChange={(v) => setC({ ...c, title: v })} />
            <Text label="Subtitle" value={c.subtitle} readOnly={ro} onChange={(v) => setC(put(c, "subtitle", v))} />
            <Text label="Picture address" inputMode="url" placeholder="https://" value={c.image_url} readOnly={ro} onChange={(v) => setC(put(c, "image_url", v))} />
            <Text label="Link when the card is tapped" inputMode="url" placeholder="https://" value={c.url} readOnly={ro} onChange={(v) => setC(put(c, "url", v))} />
            <ListEditor<Obj>
              legend="Card buttons"
              addLabel="Add a button"
              max={3}
              readOnly={ro}
              items={objs(c.buttons)}
              onChange={(v) => setC(put(c, "buttons", v))}
              make={() => ({ type: "postback", title: "" })}
              itemLabel={(b, i) => s(b.title) || `Button ${i + 1}`}
              render={(b, setB) => <ButtonFields b={b} setB={setB} node={node} ctx={ctx} />}
            />
          </>
        )}
      />
      <fieldset className="fe-group">
        <legend>Picture or file</legend>
        <Select
          label="Kind"
          value={s(attachment?.type)}
          disabled={ro}
          options={[
            { value: "", label: "None" },
            { value: "image", label: "Picture" },
            { value: "video", label: "Video" },
            { value: "audio", label: "Audio" },
            { value: "file", label: "File" },
          ]}
          onChange={(v) => upd("attachment", v ? { type: v, url: s(attachment?.url) } : undefined)}
        />
        {attachment && (
          <Text label="Address" inputMode="url" placeholder="https://" value={attachment.url} readOnly={ro} onChange={(v) => upd("attachment", { ...attachment, url: v })} />
        )}
      </fieldset>
      <NextStep label="Then go to" field="next" value={node.next} selfID={node.id} ctx={ctx} onChange={(v) => upd("next", v)} />
    </>
  );
}

function ButtonFields({ b, setB, node, ctx }: { b: Obj; setB: (b: Obj) => void; node: FlowNode; ctx: Ctx }) {
  const ro = ctx.readOnly;
  const isURL = s(b.type) === "url";
  return (
    <>
      <Select
        label="Kind"
        value={isURL ? "url" : "postback"}
        disabled={ro}
        options={[
          { value: "postback", label: "Leads to a step" },
          { value: "url", label: "Opens a web page" },
        ]}
        onChange={(v) => setB(v === "url" ? { type: "url", title: s(b.title), url: s(b.url) } : { type: "postback", title: s(b.title) })}
      />
      <Text label="Title" value={b.title} readOnly={ro} onChange={(v) => setB({ ...b, title: v })} />
      {isURL ? (
        <Text label="Web address" inputMode="url" placeholder="https://" value={b.url} readOnly={ro} onChange={(v) => setB({ ...b, url: v })} />
      ) : (
        <NextStep label="When tapped, go to" value={b.next} selfID={node.id} ctx={ctx} onChange={(v) => setB(put(b, "next", v))} />
      )}
    </>
  );
}
