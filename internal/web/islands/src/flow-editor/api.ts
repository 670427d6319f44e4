// Calls to Parley's JSON API with the dashboard's session cookie. The API
// accepts the session of a signed-in member; cross-site requests are refused
// by Go's CrossOriginProtection, which same-origin fetches pass (browsers
// send Sec-Fetch-Site: same-origin), so no token is needed here.

import type { FieldDef, FlowDoc, FlowInfo, FlowStats, Problem, SimContact, SimInput, SimResult } from "./types";

/** An API answer that was not a success. */
export class APIError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Problem[] = [],
    readonly field = "",
  ) {
    super(message);
  }
}

/** The flow API of one workspace and flow. */
export class FlowAPI {
  private readonly base: string;
  constructor(
    readonly workspaceID: string,
    readonly flowID: string,
  ) {
    this.base = `/api/v1/workspaces/${encodeURIComponent(workspaceID)}`;
  }

  private get flowURL() {
    return `${this.base}/flows/${encodeURIComponent(this.flowID)}`;
  }

  private async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new APIError(0, "network", "Parley could not be reached. Check your connection and try again.");
    }
    const text = await res.text();
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (!res.ok) {
      const d = (data ?? {}) as { error?: { code?: string; message?: string; field?: string }; problems?: Problem[] };
      let msg = d.error?.message || `Something went wrong (${res.status}).`;
      if (res.status === 401) msg = "Your session has ended. Sign in again in another tab, then try again.";
      throw new APIError(res.status, d.error?.code ?? "", msg, d.problems ?? [], d.error?.field ?? "");
    }
    return data as T;
  }

  /** The flow, its draft and the draft's problems. */
  load() {
    return this.call<{ flow: FlowInfo; draft: FlowDoc; problems?: Problem[] }>("GET", this.flowURL);
  }

  saveDraft(doc: FlowDoc) {
    return this.call<{ flow: FlowInfo; problems?: Problem[] }>("PUT", `${this.flowURL}/draft`, doc);
  }

  publish() {
    return this.call<{ flow: FlowInfo; version: number }>("POST", `${this.flowURL}/publish`, {});
  }

  simulate(doc: FlowDoc, contact: SimContact, inputs: SimInput[]) {
    const wire = inputs.map((i) => ("payload" in i ? { payload: i.payload } : { text: i.text }));
    return this.call<SimResult>("POST", `${this.flowURL}/simulate`, { document: doc, contact, inputs: wire });
  }

  stats() {
    return this.call<FlowStats>("GET", `${this.flowURL}/stats`);
  }

  /** The workspace's custom fields; an empty list when they cannot be read. */
  async fields(): Promise<FieldDef[]> {
    try {
      const r = await this.call<{ fields?: FieldDef[] }>("GET", `${this.base}/fields`);
      return r.fields ?? [];
    } catch {
      return [];
    }
  }

  /** The workspace's other flows, for "go to flow"; empty when unreadable. */
  async flows(): Promise<FlowInfo[]> {
    try {
      const r = await this.call<{ flows?: FlowInfo[] }>("GET", `${this.base}/flows`);
      return r.flows ?? [];
    } catch {
      return [];
    }
  }

  exportURL() {
    return `${this.flowURL}/export`;
  }
}
