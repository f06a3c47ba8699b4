// Turns finished traces into alerts: match each rule, apply its rate
// threshold, fold repeats into de-duplication groups and emit each group at
// most `rate_limit.max` times per `rate_limit.per`. Pure and synchronous: the
// clock is injected, sinks (NATS, webhook) are the caller's business.
import { createHash } from "node:crypto";
import { outcomeName, v1, type Alert, type TraceInit } from "../model/mod.js";
import { formatDurationMs } from "../timefmt/mod.js";
import { DedupeTable, type DedupeGroup } from "./dedupe.js";
import { compileMatch, type TraceMatcher } from "./matcher.js";
import { RateWindow } from "./rate-window.js";
import type { AlertRule } from "./rule-schema.js";
import { defaultAlertRules } from "./rules.js";
import { factsKey, traceFacts, type TraceFacts } from "./trace-facts.js";

export interface AlertEngineOptions {
  /** Rules, evaluated in order. Default: `defaultAlertRules()`. */
  rules?: readonly AlertRule[];
  /** Clock in milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
  /**
   * Most keys one rule tracks at a time (de-duplication groups, rate windows,
   * rate limiters each). Beyond it the oldest are forgotten. Default: 10,000.
   */
  maxKeysPerRule?: number;
}

export interface AlertRuleStats {
  /** Traces that met the rule's `match`. */
  matched: number;
  /** Matches that also crossed the rule's rate threshold (all matches when it has none). */
  fired: number;
  /** Alerts emitted, by `evaluate()` and `flush()`. */
  emitted: number;
  /** Fired matches folded into a group without an alert of their own (rate-limited). */
  suppressed: number;
}

export interface AlertEngineStats extends AlertRuleStats {
  /** Traces evaluated. */
  evaluated: number;
  /** De-duplication groups currently open, over all rules. */
  openGroups: number;
  /** Keys forgotten early because a rule tracked more than `maxKeysPerRule`. */
  evictedKeys: number;
  rules: Record<string, AlertRuleStats>;
}

interface Latest {
  readonly facts: TraceFacts;
  /** Set for rate rules: what crossed the threshold, e.g. "tt-a → 10.88.0.3:8080". */
  readonly rateSubject: string | undefined;
}

interface CompiledRule {
  readonly rule: AlertRule;
  readonly matches: TraceMatcher;
  readonly groups: DedupeTable<Latest>;
  readonly rates: Map<string, RateWindow>;
  readonly limits: Map<string, RateWindow>;
  readonly stats: AlertRuleStats;
}

const DEFAULTS = { maxKeysPerRule: 10_000 };
// Housekeeping (expiring groups, idle windows) runs at most this often, so
// evaluate() stays O(rules) per trace.
const PRUNE_EVERY_MS = 1_000;

export class AlertEngine {
  readonly #rules: CompiledRule[];
  readonly #now: () => number;
  readonly #maxKeys: number;
  #evaluated = 0;
  #evicted = 0;
  #lastPrune = -Infinity;

  constructor(opts: AlertEngineOptions = {}) {
    const rules = opts.rules ?? defaultAlertRules();
    this.#now = opts.now ?? Date.now;
    this.#maxKeys = opts.maxKeysPerRule ?? DEFAULTS.maxKeysPerRule;
    this.#rules = rules.map((rule) => ({
      rule,
      matches: compileMatch(rule.match),
      groups: new DedupeTable<Latest>(rule.dedupe.windowMs),
      rates: new Map(),
      limits: new Map(),
      stats: { matched: 0, fired: 0, emitted: 0, suppressed: 0 },
    }));
  }

  get rules(): readonly AlertRule[] {
    return this.#rules.map((r) => r.rule);
  }

  /** The alerts `trace` causes now; usually none, at most one per rule. */
  evaluate(trace: TraceInit): Alert[] {
    const now = this.#now();
    this.#evaluated++;
    const facts = traceFacts(trace);
    const alerts: Alert[] = [];
    for (const r of this.#rules) {
      if (!r.matches(facts)) continue;
      r.stats.matched++;
      let rateSubject: string | undefined;
      if (r.rule.rate) {
        const { threshold, windowMs, key } = r.rule.rate;
        const rk = factsKey(facts, key, r.rule.name);
        const window = getOrCreate(r.rates, rk, () => new RateWindow(threshold + 1, windowMs));
        window.record(now);
        if (window.count(now) <= threshold) continue;
        rateSubject = key.map((f) => factsKey(facts, [f], r.rule.name) || "?").join(" → ");
      }
      r.stats.fired++;
      const key = factsKey(facts, r.rule.dedupe.key, r.rule.name);
      const group = r.groups.fold(key, now, { facts, rateSubject }, () => alertId(r.rule.name, key, now, facts.traceId));
      const alert = this.#tryEmit(r, group, now);
      if (alert) alerts.push(alert);
      else r.stats.suppressed++;
    }
    if (now - this.#lastPrune >= PRUNE_EVERY_MS) this.#prune(now);
    return alerts;
  }

  /**
   * Reports folded matches that were rate-limited when they arrived, now that
   * their limit allows, and forgets expired state. Call it periodically (about
   * once per shortest `rate_limit.per`) so a burst's final count is not lost.
   */
  flush(): Alert[] {
    const now = this.#now();
    const alerts: Alert[] = [];
    for (const r of this.#rules) {
      for (const group of r.groups.pending()) {
        const alert = this.#tryEmit(r, group, now);
        if (alert) alerts.push(alert);
      }
    }
    this.#prune(now);
    return alerts;
  }

  stats(): AlertEngineStats {
    const total: AlertEngineStats = {
      evaluated: this.#evaluated,
      matched: 0,
      fired: 0,
      emitted: 0,
      suppressed: 0,
      openGroups: 0,
      evictedKeys: this.#evicted,
      rules: {},
    };
    for (const r of this.#rules) {
      total.matched += r.stats.matched;
      total.fired += r.stats.fired;
      total.emitted += r.stats.emitted;
      total.suppressed += r.stats.suppressed;
      total.openGroups += r.groups.size;
      total.rules[r.rule.name] = { ...r.stats };
    }
    return total;
  }

  #tryEmit(r: CompiledRule, group: DedupeGroup<Latest>, now: number): Alert | undefined {
    const { max, perMs } = r.rule.rateLimit;
    const limiter = getOrCreate(r.limits, group.key, () => new RateWindow(max, perMs));
    if (limiter.count(now) >= max) return undefined;
    limiter.record(now);
    group.reported = group.count;
    r.stats.emitted++;
    const { facts, rateSubject } = group.latest;
    return v1.Alert.create({
      alertId: group.id,
      rule: r.rule.name,
      severity: r.rule.severity,
      traceId: facts.traceId,
      explanation: explain(r.rule, facts, rateSubject),
      timeUs: now * 1_000,
      count: group.count,
      sourcePod: facts.sourcePod,
      destination: facts.destination,
    });
  }

  #prune(now: number): void {
    this.#lastPrune = now;
    for (const r of this.#rules) {
      r.groups.expire(now);
      this.#evicted += r.groups.trim(this.#maxKeys);
      for (const map of [r.rates, r.limits]) {
        for (const [k, w] of map) if (w.idle(now)) map.delete(k);
        // Maps iterate in insertion order: the first keys are the oldest.
        for (const k of map.keys()) {
          if (map.size <= this.#maxKeys) break;
          map.delete(k);
          this.#evicted++;
        }
      }
    }
  }
}

/** "<what the rule means>: <the trace's own one-sentence explanation>". */
function explain(rule: AlertRule, facts: TraceFacts, rateSubject: string | undefined): string {
  let head = rule.summary;
  if (rule.rate && rateSubject !== undefined) {
    head += ` (more than ${rule.rate.threshold} in ${formatDurationMs(rule.rate.windowMs)}, ${rateSubject})`;
  }
  const body =
    facts.explanation ||
    `trace ${facts.traceId || "?"} ended ${outcomeName(facts.outcome).toLowerCase().replace(/_/g, " ")}`;
  return `${head}: ${body}`;
}

// Deterministic: the same rule, key, opening time and first trace give the
// same id, so replays and tests agree and consumers can upsert by id.
function alertId(rule: string, key: string, openedAt: number, firstTraceId: string): string {
  return createHash("sha256").update(`${rule}\n${key}\n${openedAt}\n${firstTraceId}`).digest("hex").slice(0, 24);
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = create();
    map.set(key, v);
  }
  return v;
}
