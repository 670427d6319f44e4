// The preview: runs the draft against a pretend contact through the
// simulate endpoint, without any channel, and shows the conversation as the
// contact would see it. The flow starts at its first step as soon as the
// preview opens (as if a trigger had fired); then the person writes or taps
// quick replies and buttons as the contact. The server is stateless: every
// turn sends the whole list of inputs so far.

import { useEffect, useRef, useState } from "react";
import { APIError, type FlowAPI } from "./api";
import type { Content, FlowDoc, SimInput, SimResult } from "./types";

export function Preview({ api, doc, onShowNode }: { api: FlowAPI; doc: FlowDoc; onShowNode: (id: string) => void }) {
  const [firstName, setFirstName] = useState("Dara");
  const [inputs, setInputs] = useState<SimInput[]>([]);
  const [result, setResult] = useState<SimResult | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [text, setText] = useState("");
  const endRef = useRef<HTMLDivElement>(null);

  const run = async (next: SimInput[]) => {
    setBusy(true);
    setError("");
    try {
      const r = await api.simulate(doc, { first_name: firstName.trim() || undefined, channel: "messenger" }, next);
      setInputs(next);
      setResult(r);
    } catch (e) {
      setError(e instanceof APIError ? e.message : "The preview could not run.");
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    endRef.current?.scrollIntoView?.({ block: "nearest" });
  }, [result]);

  // Start as soon as the preview opens.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void run([]);
  }, []);

  const restart = () => void run([]);

  const send = (e: React.FormEvent) => {
    e.preventDefault();
    const t = text.trim();
    if (!t || busy) return;
    setText("");
    void run([...inputs, { text: t }]);
  };

  const lines = result?.transcript ?? [];
  const lastBot = [...lines].reverse().find((l) => l.from === "bot" && l.content);
  const taps = lastBot?.content ? tapsOf(lastBot.content) : [];
  const simError = typeof result?.error === "string" ? result.error : result?.error?.message;
  const problems = (result?.problems ?? []).filter((p) => p.message !== simError);

  return (
    <section className="fe-preview" aria-label="Preview">
      <h2 className="fe-form__title">Try it</h2>
      <p className="fe-hint">Chat with this draft as a pretend contact: it starts at the first step, as if a trigger had fired. Nothing is sent to anyone, and no contact is changed.</p>
      <div className="fe-row">
        <div className="fe-field">
          <label htmlFor="fe-sim-name">Contact's first name</label>
          <input id="fe-sim-name" type="text" value={firstName} onChange={(e) => setFirstName(e.target.value)} />
        </div>
        <button type="button" className="button button-small fe-row__end" onClick={restart}>
          {inputs.length || result ? "Start over" : "Start"}
        </button>
      </div>
      <div className="fe-chat" aria-live="polite">
        {lines.length === 0 && <p className="fe-chat__empty">{busy ? "Starting the flow…" : "The flow sent nothing when it started."}</p>}
        {lines.map((l, i) => {
          if (l.note || (!l.content && l.from !== "contact")) {
            return (
              <p key={i} className="fe-chat__note">
                {l.note ?? ""}
              </p>
            );
          }
          const mine = l.from === "contact";
          return (
            <div key={i} className={mine ? "fe-bubble-row is-contact" : "fe-bubble-row is-bot"}>
              <div className="fe-bubble">{describe(l.content ?? {})}</div>
              {!mine && l.node_id && (
                <button type="button" className="fe-link fe-bubble__node" onClick={() => onShowNode(l.node_id!)}>
                  step {l.node_id}
                </button>
              )}
            </div>
          );
        })}
        {(result?.actions ?? []).length > 0 && (
          <ul className="fe-chat__actions" aria-label="What the flow did">
            {result!.actions!.map((a, i) => (
              <li key={i}>
                {a.type}
                {a.detail !== undefined && a.detail !== null && a.detail !== "" ? `: ${typeof a.detail === "string" ? a.detail : JSON.stringify(a.detail)}` : ""}
              </li>
            ))}
          </ul>
        )}
        {problems.map((p, i) => (
          <p key={i} className="fe-error">
            {p.node_id ? (
              <button type="button" className="fe-link" onClick={() => onShowNode(p.node_id!)}>
                step {p.node_id}
              </button>
            ) : null}{" "}
            {p.message}
          </p>
        ))}
        {simError && <p className="fe-error">{simError}</p>}
        {result?.state?.status && <p className="fe-chat__note">Flow {statusWords(result.state.status)}</p>}
        <div ref={endRef} />
      </div>
      {taps.length > 0 && (
        <div className="fe-taps" role="group" aria-label="Tap a reply">
          {taps.map((t, i) => (
            <button key={i} type="button" className="fe-chip" disabled={busy} onClick={() => void run([...inputs, { payload: t.payload, title: t.title }])}>
              {t.title}
            </button>
          ))}
        </div>
      )}
      <form className="fe-send" onSubmit={send}>
        <label htmlFor="fe-sim-text" className="visually-hidden">
          Message as the contact
        </label>
        <input id="fe-sim-text" type="text" value={text} placeholder="Write as the contact…" onChange={(e) => setText(e.target.value)} autoComplete="off" />
        <button type="submit" className="button button-primary button-small" disabled={busy || !text.trim()}>
          {busy ? "…" : "Send"}
        </button>
      </form>
      {error && (
        <p className="fe-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The quick replies and postback buttons of a message, to tap. */
function tapsOf(c: Content): { title: string; payload: string }[] {
  const out: { title: string; payload: string }[] = [];
  for (const q of c.quick_replies ?? []) out.push({ title: q.title, payload: q.payload });
  for (const b of c.buttons ?? []) if (b.type === "postback" && b.payload) out.push({ title: b.title, payload: b.payload });
  for (const card of c.cards ?? []) for (const b of card.buttons ?? []) if (b.type === "postback" && b.payload) out.push({ title: `${card.title}: ${b.title}`, payload: b.payload });
  return out;
}

function describe(c: Content) {
  const parts: React.ReactNode[] = [];
  if (c.text) parts.push(<span key="t" className="fe-bubble__text">{c.text}</span>);
  for (const [i, card] of (c.cards ?? []).entries()) {
    parts.push(
      <span key={"c" + i} className="fe-bubble__extra">
        Card: {card.title}
        {card.subtitle ? ` — ${card.subtitle}` : ""}
      </span>,
    );
  }
  for (const [i, a] of (c.attachments ?? []).entries()) {
    parts.push(
      <span key={"a" + i} className="fe-bubble__extra">
        Attachment: {a.type}
      </span>,
    );
  }
  for (const [i, b] of (c.buttons ?? []).entries()) {
    if (b.type !== "postback")
      parts.push(
        <span key={"b" + i} className="fe-bubble__extra">
          Link: {b.title}
        </span>,
      );
  }
  if (!parts.length && c.payload) parts.push(<span key="p">Tapped {c.payload}</span>);
  return parts;
}

function statusWords(s: string) {
  switch (s) {
    case "ended":
      return "ended.";
    case "awaiting":
      return "waits for an answer.";
    case "waiting":
      return "is waiting.";
    case "running":
      return "is running.";
  }
  return s + ".";
}
