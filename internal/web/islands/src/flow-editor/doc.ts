// Pure helpers over the flow document: what each node type is called, where
// its edges are (the same paths as package flow's Edge.Field, so problems
// and canvas handles agree), new nodes and triggers, and the cleaning that
// keeps the strict parser happy. Nothing here touches the DOM or the API.

import type { FlowDoc, FlowNode, NodeType, Trigger, TriggerType } from "./types";

/** What a person calls each node type, with a one-line description. */
export const NODE_KINDS: { type: NodeType; label: string; help: string; icon: string }[] = [
  { type: "message", label: "Send a message", help: "Text, quick replies, buttons, cards or a picture.", icon: "\u2709\uFE0E" },
  { type: "question", label: "Ask a question", help: "Wait for an answer, check it and save it.", icon: "?" },
  { type: "condition", label: "Check a condition", help: "Go one way or another: tags, fields, opening hours…", icon: "\u25C6" },
  { type: "action", label: "Do something", help: "Tag the contact, set a field, notify the team…", icon: "\u26A1\uFE0E" },
  { type: "delay", label: "Wait", help: "Pause for a while, then go on.", icon: "\u25F7" },
  { type: "http", label: "Call another system", help: "Send a web request (HTTP) and use its answer.", icon: "\u21C4" },
  { type: "handoff", label: "Hand to a person", help: "Give the conversation to your team.", icon: "\u263A\uFE0E" },
  { type: "goto_flow", label: "Go to another flow", help: "Continue in a different flow.", icon: "\u21AA\uFE0E" },
  { type: "randomizer", label: "Random split (A/B)", help: "Send people down paths at random.", icon: "\u2684" },
  { type: "end", label: "End", help: "Stop the flow here.", icon: "\u25A0" },
  { type: "ai_answer", label: "AI answer", help: "Coming soon: until then it hands to a person.", icon: "\u2726" },
];

/** The short name of a node type, for node headers. */
export const NODE_TITLES: Record<NodeType, string> = {
  message: "Message",
  question: "Question",
  condition: "Condition",
  action: "Action",
  delay: "Wait",
  http: "Web request",
  handoff: "Hand to a person",
  goto_flow: "Go to flow",
  randomizer: "Random split",
  end: "End",
  ai_answer: "AI answer",
};

export function kindOf(t: string) {
  return NODE_KINDS.find((k) => k.type === t) ?? { type: t as NodeType, label: t, help: "", icon: "\u25AB" };
}

/** What starts a flow, in plain words. */
export const TRIGGER_KINDS: { type: TriggerType; label: string }[] = [
  { type: "keyword", label: "A message with certain words" },
  { type: "payload", label: "A button or quick reply is tapped" },
  { type: "get_started", label: "The contact taps Get Started" },
  { type: "conversation_start", label: "A contact writes for the first time" },
  { type: "ref", label: "The contact opens a link (m.me ref)" },
  { type: "default", label: "Nothing else matched (default reply)" },
  { type: "comment", label: "Someone comments on a post" },
];

export const KEYWORD_MODES: { mode: string; label: string }[] = [
  { mode: "contains", label: "contains" },
  { mode: "exact", label: "is exactly" },
  { mode: "begins_with", label: "begins with" },
  { mode: "whole_word", label: "has the whole word" },
  { mode: "regex", label: "matches the pattern (RE2)" },
];

export const CHANNELS = ["messenger", "instagram", "whatsapp", "webchat"];

/** One way out of a node: a member holding the ID of the next node. */
export interface Outlet {
  /** JSON path inside the node, like "next" or "quick_replies[1].next". */
  field: string;
  /** What the edge means, for people ("Tap “Prices”"). */
  label: string;
  /** The target node's ID, or "" when the edge is not set. */
  target: string;
}

type Obj = Record<string, unknown>;

function list(v: unknown): Obj[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === "object") as Obj[]) : [];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function quoted(s: string, fallback: string): string {
  const t = s.trim();
  return t ? "“" + (t.length > 24 ? t.slice(0, 23) + "…" : t) + "”" : fallback;
}

/** The node's ways out, in the order package flow lists its edges. */
export function outlets(n: FlowNode): Outlet[] {
  const out: Outlet[] = [];
  const add = (field: string, label: string, target: unknown) => out.push({ field, label, target: str(target) });
  switch (n.type) {
    case "message": {
      add("next", "Then", n.next);
      list(n.quick_replies).forEach((q, i) => add(`quick_replies[${i}].next`, "Tap " + quoted(str(q.title), `quick reply ${i + 1}`), q.next));
      list(n.buttons).forEach((b, i) => {
        if (str(b.type) !== "url") add(`buttons[${i}].next`, "Button " + quoted(str(b.title), String(i + 1)), b.next);
      });
      list(n.cards).forEach((c, i) =>
        list(c.buttons).forEach((b, j) => {
          if (str(b.type) !== "url")
            add(`cards[${i}].buttons[${j}].next`, `Card ${i + 1}: ` + quoted(str(b.title), `button ${j + 1}`), b.next);
        }),
      );
      break;
    }
    case "question":
      add("next", "Answered", n.next);
      list(n.choices).forEach((c, i) => add(`choices[${i}].next`, "Chose " + quoted(str(c.title), `choice ${i + 1}`), c.next));
      add("invalid_next", "Too many wrong answers", n.invalid_next);
      add("timeout_next", "No answer in time", n.timeout_next);
      break;
    case "condition":
      list(n.branches).forEach((b, i) => add(`branches[${i}].next`, `If ${branchSummary(b) || "branch " + (i + 1)}`, b.next));
      add("else", "Otherwise", n.else);
      break;
    case "action":
      add("next", "Then", n.next);
      break;
    case "delay":
      add("next", "After waiting", n.next);
      break;
    case "http":
      add("next", "It worked", n.next);
      add("failure_next", "It failed", n.failure_next);
      break;
    case "randomizer": {
      const bs = list(n.branches);
      const total = bs.reduce((s, b) => s + (typeof b.weight === "number" && b.weight > 0 ? b.weight : 0), 0);
      bs.forEach((b, i) => {
        const w = typeof b.weight === "number" ? b.weight : 0;
        const pct = total > 0 ? Math.round((w / total) * 100) + " %" : "?";
        add(`branches[${i}].next`, `Path ${String.fromCharCode(65 + (i % 26))} (${pct})`, b.next);
      });
      break;
    }
  }
  return out;
}

/** A branch's rules in a few words. */
export function branchSummary(b: Obj): string {
  const rules = list(b.rules);
  const parts = rules.map((r) => {
    const subject = str(r.subject);
    const op = str(r.op);
    switch (subject) {
      case "tag":
        return (op === "not_exists" ? "no tag " : "tag ") + (str(r.key) || "?");
      case "field":
      case "contact":
        return `${str(r.key) || "?"} ${OPS[op] ?? op} ${op === "exists" || op === "not_exists" ? "" : str(r.value)}`.trim();
      case "channel":
        return `channel ${op === "neq" ? "is not" : "is"} ${str(r.value) || "?"}`;
      case "business_hours":
        return op === "closed" ? "closed now" : "open now";
    }
    return subject;
  });
  return parts.join(str(b.match) === "any" ? " or " : " and ");
}

/** Operators in words. */
export const OPS: Record<string, string> = {
  eq: "is",
  neq: "is not",
  contains: "contains",
  gt: "is more than",
  lt: "is less than",
  exists: "is set",
  not_exists: "is empty",
  open: "open",
  closed: "closed",
};

const PATH_PART = /([A-Za-z_]+)(?:\[(\d+)\])?/g;

/** Splits "cards[1].buttons[0].next" into ["cards", 1, "buttons", 0, "next"]. */
export function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(PATH_PART)) {
    out.push(m[1]);
    if (m[2] !== undefined) out.push(Number(m[2]));
  }
  return out;
}

/** Reads the value at path inside a node. */
export function getPath(n: FlowNode, path: string): unknown {
  let cur: unknown = n;
  for (const k of splitPath(path)) {
    if (cur == null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/**
 * Returns a copy of the node with value at path ("" or undefined removes
 * the member). Only the objects along the path are copied.
 */
export function setPath(n: FlowNode, path: string, value: unknown): FlowNode {
  const keys = splitPath(path);
  const write = (obj: unknown, i: number): unknown => {
    const k = keys[i];
    const base: Record<string | number, unknown> | unknown[] = Array.isArray(obj)
      ? [...obj]
      : { ...((obj && typeof obj === "object" ? obj : {}) as Obj) };
    const rec = base as Record<string | number, unknown>;
    if (i === keys.length - 1) {
      if (value === undefined || value === "") {
        if (Array.isArray(base)) rec[k] = undefined;
        else delete rec[k];
      } else rec[k] = value;
    } else {
      rec[k] = write(rec[k], i + 1);
    }
    return base;
  };
  return write(n, 0) as FlowNode;
}

/** Returns a copy of the node with every edge to target cleared. */
export function unlink(n: FlowNode, target: string): FlowNode {
  let out = n;
  for (const o of outlets(n)) {
    if (o.target === target) out = setPath(out, o.field, "");
  }
  return out;
}

/** A node ID not used in doc: n1, n2, … */
export function newNodeID(doc: FlowDoc): string {
  const used = new Set(doc.nodes.map((n) => n.id));
  let i = doc.nodes.length + 1;
  while (used.has("n" + i)) i++;
  return "n" + i;
}

/** A trigger ID not used in doc: t1, t2, … */
export function newTriggerID(doc: FlowDoc): string {
  const used = new Set((doc.triggers ?? []).map((t) => t.id));
  let i = (doc.triggers ?? []).length + 1;
  while (used.has("t" + i)) i++;
  return "t" + i;
}

/** A new node of type t with sensible first values. */
export function newNode(doc: FlowDoc, t: NodeType, position?: { x: number; y: number }): FlowNode {
  const n: FlowNode = { id: newNodeID(doc), type: t };
  if (position) n.position = { x: Math.round(position.x), y: Math.round(position.y) };
  switch (t) {
    case "message":
      n.text = "";
      break;
    case "question":
      n.text = "";
      n.answer = "text";
      break;
    case "condition":
      n.branches = [{ match: "all", rules: [{ subject: "tag", key: "", op: "exists" }] }];
      break;
    case "action":
      n.actions = [{ type: "add_tag", tag: "" }];
      break;
    case "delay":
      n.duration = "1h";
      break;
    case "http":
      n.method = "GET";
      n.url = "https://";
      break;
    case "goto_flow":
      n.flow = "";
      break;
    case "randomizer":
      n.branches = [{ weight: 1 }, { weight: 1 }];
      break;
  }
  return n;
}

/** A new trigger of type t. */
export function newTrigger(doc: FlowDoc, t: TriggerType): Trigger {
  const tr: Trigger = { id: newTriggerID(doc), type: t };
  if (t === "keyword" || t === "comment") {
    tr.mode = "contains";
    tr.keywords = [];
  }
  return tr;
}

/**
 * The members each trigger type takes (package flow, triggerKeys): when
 * the type changes, the others go, or the strict parser would refuse them.
 */
export function triggerMembers(t: TriggerType): string[] {
  const common = ["id", "type", "channels", "priority"];
  switch (t) {
    case "keyword":
      return [...common, "mode", "keywords", "exclude"];
    case "comment":
      return [...common, "mode", "keywords", "exclude", "post_ids"];
    case "payload":
      return [...common, "payload"];
    case "ref":
      return [...common, "ref"];
    case "default":
      return [...common, "cooldown"];
  }
  return common;
}

/** What a trigger does, in a few words. */
export function triggerSummary(t: Trigger): string {
  const words = (ws?: string[]) =>
    (ws ?? []).filter((w) => w.trim()).map((w) => "“" + w.trim() + "”").join(" or ") || "…";
  switch (t.type) {
    case "keyword": {
      const mode = KEYWORD_MODES.find((m) => m.mode === (t.mode || "contains"))?.label ?? t.mode;
      return `Message ${mode} ${words(t.keywords)}`;
    }
    case "payload":
      return `Tap with payload ${t.payload ? "“" + t.payload + "”" : "…"}`;
    case "get_started":
      return "Taps Get Started";
    case "conversation_start":
      return "First message from a contact";
    case "ref":
      return `Opens a link with ref ${t.ref ? "“" + t.ref + "”" : "…"}`;
    case "default":
      return "Nothing else matched" + (t.cooldown ? ` (once per ${t.cooldown})` : "");
    case "comment":
      return (t.keywords ?? []).length ? `Comment with ${words(t.keywords)}` : "Any comment";
  }
  return t.type;
}

/** A short description of what a node does, for the canvas. */
export function nodeSummary(n: FlowNode): string {
  switch (n.type) {
    case "message": {
      const t = str(n.text);
      if (t) return t;
      const cards = list(n.cards);
      if (cards.length) return `${cards.length} card${cards.length > 1 ? "s" : ""}`;
      const a = n.attachment as Obj | undefined;
      return a ? `${str(a.type) || "file"} attachment` : "";
    }
    case "question":
      return str(n.text);
    case "condition":
      return list(n.branches).length + " branch" + (list(n.branches).length === 1 ? "" : "es");
    case "action":
      return list(n.actions)
        .map((a) => actionSummary(a))
        .join(", ");
    case "delay":
      return `Wait ${str(n.duration) || "…"}` + (n.cancel_on_reply ? ", unless they reply" : "");
    case "http":
      return `${str(n.method) || "GET"} ${str(n.url)}`;
    case "handoff":
    case "ai_answer":
      return n.team ? `Team ${str(n.team)}` : "Any team member";
    case "goto_flow":
      return n.flow ? "Flow " + str(n.flow) : "Choose a flow";
    case "randomizer":
      return list(n.branches).length + " paths";
    case "end":
      return "The flow stops here.";
  }
  return "";
}

/** An action in a few words. */
export function actionSummary(a: Obj): string {
  switch (str(a.type)) {
    case "add_tag":
      return "tag " + (str(a.tag) || "…");
    case "remove_tag":
      return "untag " + (str(a.tag) || "…");
    case "set_field":
      return `set ${str(a.field) || "…"}`;
    case "clear_field":
      return `clear ${str(a.field) || "…"}`;
    case "set_stage":
      return `stage ${str(a.stage) || "…"}`;
    case "subscribe":
      return "subscribe" + (a.topic ? " to " + str(a.topic) : "");
    case "unsubscribe":
      return "unsubscribe" + (a.topic ? " from " + str(a.topic) : "");
    case "notify_team":
      return "notify " + (str(a.team) || "the team");
    case "resolve":
      return "mark resolved";
  }
  return str(a.type);
}

/** The label of a node for lists and pickers: its name, its summary or ID. */
export function nodeLabel(n: FlowNode): string {
  const name = str(n.name).trim();
  if (name) return name;
  const s = nodeSummary(n).trim();
  const short = s.length > 40 ? s.slice(0, 39) + "…" : s;
  return short ? `${NODE_TITLES[n.type] ?? n.type}: ${short}` : `${NODE_TITLES[n.type] ?? n.type} ${n.id}`;
}

/**
 * Removes what the strict parser would refuse and the author did not
 * mean: empty texts, empty lists, false flags and null, at any depth —
 * except inside an http node's JSON body, which is the author's own data.
 */
export function clean(doc: FlowDoc): FlowDoc {
  const strip = (v: unknown, keep = false): unknown => {
    if (Array.isArray(v)) return v.filter((x) => x !== undefined && x !== null).map((x) => strip(x));
    if (v && typeof v === "object") {
      const out: Obj = {};
      for (const [k, x] of Object.entries(v as Obj)) {
        if (keep && k === "body") {
          if (x !== undefined && x !== null && x !== "") out[k] = x;
          continue;
        }
        const c = strip(x);
        if (c === undefined || c === null || c === "" || c === false) continue;
        if (Array.isArray(c) && c.length === 0) continue;
        out[k] = c;
      }
      return out;
    }
    return v;
  };
  return {
    format: doc.format || 1,
    ...(doc.name ? { name: doc.name } : {}),
    ...(doc.triggers && doc.triggers.length ? { triggers: doc.triggers.map((t) => strip(t) as Trigger) } : {}),
    start: doc.start ?? "",
    nodes: doc.nodes.map((n) => strip(n, true) as FlowNode),
  };
}

/**
 * Places nodes that have no position yet: breadth-first from the start,
 * one column per step, so an imported flow without positions is readable.
 */
export function layout(doc: FlowDoc): FlowDoc {
  if (doc.nodes.every((n) => n.position)) return doc;
  const byID = new Map(doc.nodes.map((n) => [n.id, n]));
  const depth = new Map<string, number>();
  const queue: string[] = [];
  if (byID.has(doc.start)) {
    depth.set(doc.start, 0);
    queue.push(doc.start);
  }
  while (queue.length) {
    const id = queue.shift()!;
    for (const o of outlets(byID.get(id)!)) {
      if (o.target && byID.has(o.target) && !depth.has(o.target)) {
        depth.set(o.target, depth.get(id)! + 1);
        queue.push(o.target);
      }
    }
  }
  let maxDepth = Math.max(0, ...depth.values());
  const rows = new Map<number, number>();
  const nodes = doc.nodes.map((n) => {
    if (n.position) return n;
    let d = depth.get(n.id);
    if (d === undefined) d = ++maxDepth;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    return { ...n, position: { x: COLUMN + d * COLUMN, y: row * ROW } };
  });
  return { ...doc, nodes };
}

/** Layout spacing, in canvas pixels. */
export const COLUMN = 290;
export const ROW = 200;
