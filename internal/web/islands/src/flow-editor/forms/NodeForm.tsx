// The side panel's form of the selected step: its problems first, then its
// name and the fields of its type, then removing it.

import { kindOf, NODE_TITLES } from "../doc";
import type { FlowInfo, FlowNode, Problem } from "../types";
import { ConditionForm, RandomizerForm } from "./condition";
import { Ctx, Text, put } from "./controls";
import { MessageForm } from "./message";
import { ActionForm, DelayForm, GotoForm, HandoffForm, HTTPForm } from "./other";
import { QuestionForm } from "./question";

export function NodeForm(props: {
  node: FlowNode;
  set: (n: FlowNode) => void;
  remove: () => void;
  ctx: Ctx;
  problems: Problem[];
  flows: FlowInfo[];
  flowID: string;
  isStart: boolean;
  makeStart: () => void;
}) {
  const { node, set, ctx } = props;
  const kind = kindOf(node.type);
  const body = () => {
    switch (node.type) {
      case "message":
        return <MessageForm node={node} set={set} ctx={ctx} />;
      case "question":
        return <QuestionForm node={node} set={set} ctx={ctx} />;
      case "condition":
        return <ConditionForm node={node} set={set} ctx={ctx} />;
      case "randomizer":
        return <RandomizerForm node={node} set={set} ctx={ctx} />;
      case "action":
        return <ActionForm node={node} set={set} ctx={ctx} />;
      case "delay":
        return <DelayForm node={node} set={set} ctx={ctx} />;
      case "http":
        return <HTTPForm node={node} set={set} ctx={ctx} />;
      case "handoff":
        return <HandoffForm node={node} set={set} ctx={ctx} />;
      case "ai_answer":
        return <HandoffForm node={node} set={set} ctx={ctx} ai />;
      case "goto_flow":
        return <GotoForm node={node} set={set} ctx={ctx} flows={props.flows} selfFlow={props.flowID} />;
      case "end":
        return <p className="fe-hint">The flow stops here. (A step with nothing after it stops the flow too; this makes it visible.)</p>;
    }
    return <p className="fe-hint">Parley does not know this kind of step.</p>;
  };
  return (
    <form className="fe-form" aria-label={`Edit step ${node.id}`} onSubmit={(e) => e.preventDefault()}>
      <h2 className="fe-form__title">
        <span aria-hidden="true">{kind.icon}</span> {NODE_TITLES[node.type] ?? node.type} <span className="fe-muted">· {node.id}</span>
      </h2>
      {props.problems.length > 0 && (
        <ul className="fe-problems fe-problems--inline">
          {props.problems.map((p, i) => (
            <li key={i} className={`fe-problem fe-problem--${p.severity}`}>
              {p.message}
            </li>
          ))}
        </ul>
      )}
      <Text label="Name (optional)" field="name" value={node.name} readOnly={ctx.readOnly} onChange={(v) => set(put(node, "name", v) as FlowNode)} hint="A label for you and your team, shown on the canvas." />
      {body()}
      {!ctx.readOnly && (
        <div className="fe-form__footer">
          {props.isStart ? (
            <p className="fe-hint">This is the first step of the flow.</p>
          ) : (
            <button type="button" className="button button-small" onClick={props.makeStart}>
              Make this the first step
            </button>
          )}
          <button type="button" className="button button-small button-danger" onClick={props.remove}>
            Delete this step
          </button>
        </div>
      )}
    </form>
  );
}
