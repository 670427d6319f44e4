// The canvas's view of a document: one React Flow node per flow node, plus
// the "When…" card that stands for the triggers and points at the start
// node; one edge per set outlet.

import type { Edge, Node } from "@xyflow/react";
import { outlets } from "./doc";
import type { FlowDoc, FlowNode, NodeStats, Problem } from "./types";

/** The ID of the triggers card. "@" cannot appear in a node ID. */
export const START = "@start";

/** The handle of the triggers card that leads to the start node. */
export const START_HANDLE = "start";

export interface StepData extends Record<string, unknown> {
  node: FlowNode;
  isStart: boolean;
  errors: number;
  warnings: number;
  stats?: NodeStats;
}

export interface StartData extends Record<string, unknown> {
  summaries: string[];
  errors: number;
}

export type StepNodeType = Node<StepData, "step">;
export type StartNodeType = Node<StartData, "start">;
export type CanvasNode = StepNodeType | StartNodeType;

export function toNodes(
  doc: FlowDoc,
  selected: string,
  problems: Problem[],
  summaries: string[],
  stats: Record<string, NodeStats> | undefined,
): CanvasNode[] {
  const count = (id: string, sev: string) => problems.filter((p) => p.node_id === id && p.severity === sev).length;
  const start: StartNodeType = {
    id: START,
    type: "start",
    position: { x: 0, y: 0 },
    data: { summaries, errors: problems.filter((p) => p.trigger_id && p.severity === "error").length },
    selected: selected === START,
    deletable: false,
    ariaLabel: "When the flow starts: " + (summaries.length ? summaries.join("; ") : "no triggers yet"),
  };
  return [
    start,
    ...doc.nodes.map(
      (n): StepNodeType => ({
        id: n.id,
        type: "step",
        position: n.position ?? { x: 0, y: 0 },
        data: { node: n, isStart: n.id === doc.start, errors: count(n.id, "error"), warnings: count(n.id, "warning"), stats: stats?.[n.id] },
        selected: selected === n.id,
        ariaLabel: `${n.name || n.type} step ${n.id}`,
      }),
    ),
  ];
}

export function toEdges(doc: FlowDoc, selectedEdge: string): Edge[] {
  const ids = new Set(doc.nodes.map((n) => n.id));
  const edges: Edge[] = [];
  if (doc.start && ids.has(doc.start)) {
    edges.push({ id: `${START}:${START_HANDLE}`, source: START, sourceHandle: START_HANDLE, target: doc.start, selected: selectedEdge === `${START}:${START_HANDLE}` });
  }
  for (const n of doc.nodes) {
    for (const o of outlets(n)) {
      if (!o.target || !ids.has(o.target)) continue;
      const id = `${n.id}:${o.field}`;
      edges.push({ id, source: n.id, sourceHandle: o.field, target: o.target, selected: selectedEdge === id, ariaLabel: `${o.label} → ${o.target}` });
    }
  }
  return edges;
}

/** Splits an edge ID back into the node and its outlet field. */
export function edgeParts(edgeID: string): { source: string; field: string } {
  const i = edgeID.indexOf(":");
  return { source: edgeID.slice(0, i), field: edgeID.slice(i + 1) };
}
