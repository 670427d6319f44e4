// The shapes the flow editor exchanges with Parley's JSON API. The flow
// document itself is described in docs/flows.md (format 1); the editor keeps
// it as plain JSON so that members it has no form for survive a round trip.

/** A node type of format 1 (package flow, NodeTypes). */
export type NodeType =
  | "message"
  | "question"
  | "condition"
  | "action"
  | "delay"
  | "http"
  | "handoff"
  | "goto_flow"
  | "randomizer"
  | "end"
  | "ai_answer";

/** A trigger type of format 1 (package flow, TriggerTypes). */
export type TriggerType =
  | "keyword"
  | "payload"
  | "get_started"
  | "conversation_start"
  | "ref"
  | "default"
  | "comment";

export interface Position {
  x: number;
  y: number;
}

/**
 * One node. Its type-specific members sit beside id and type, as in the
 * JSON; forms read and write them by name.
 */
export interface FlowNode {
  id: string;
  type: NodeType;
  name?: string;
  position?: Position;
  [member: string]: unknown;
}

export interface Trigger {
  id: string;
  type: TriggerType;
  mode?: string;
  keywords?: string[];
  exclude?: string[];
  payload?: string;
  ref?: string;
  cooldown?: string;
  post_ids?: string[];
  channels?: string[];
  priority?: number;
  [member: string]: unknown;
}

export interface FlowDoc {
  format: number;
  name?: string;
  triggers?: Trigger[];
  start: string;
  nodes: FlowNode[];
}

/** A problem found by validation (package flow, Problem). */
export interface Problem {
  severity: "error" | "warning";
  node_id?: string;
  trigger_id?: string;
  field?: string;
  message: string;
}

/** A flow as the API lists it. */
export interface FlowInfo {
  id: string;
  name: string;
  status: string;
  published_version?: number | null;
  /** The draft was edited since the last publish. */
  unpublished_changes?: boolean;
  draft_updated_at?: string;
  updated_at?: string;
  created_at?: string;
}

/** A message as channels carry it (package channel, Content). */
export interface Content {
  text?: string;
  quick_replies?: { title: string; payload: string }[];
  buttons?: { type: string; title: string; payload?: string; url?: string }[];
  cards?: {
    title: string;
    subtitle?: string;
    image_url?: string;
    url?: string;
    buttons?: { type: string; title: string; payload?: string; url?: string }[];
  }[];
  attachments?: { type: string; url?: string }[];
  payload?: string;
}

/** One input of a simulated conversation. */
export type SimInput = { text: string } | { payload: string; title?: string };

export interface SimContact {
  first_name?: string;
  last_name?: string;
  channel?: string;
  fields?: Record<string, string>;
  tags?: string[];
}

/** One line of a simulated conversation. */
export interface SimLine {
  from: string;
  content?: Content;
  node_id?: string;
  note?: string;
}

export interface SimResult {
  transcript?: SimLine[];
  actions?: { type: string; detail?: unknown }[];
  state?: { node_id?: string; status?: string; awaiting?: unknown; vars?: Record<string, unknown> };
  error?: string | { message?: string } | null;
  problems?: { node_id?: string; message: string }[];
}

export interface NodeStats {
  entered: number;
  completed: number;
  dropped: number;
}

export interface FlowStats {
  version: number | null;
  nodes: Record<string, NodeStats>;
  errors?: { node_id?: string; message: string; at?: string }[];
}

/** A custom field definition, for pickers (GET …/fields). */
export interface FieldDef {
  key: string;
  label?: string;
  type?: string;
}
