import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { synthFromConfig } from '../cli/synthesize';
import type { Config } from '../cli/config';
import { formatDuration } from '../duration';
import { type Problem, show } from '../errors';
import { type DeployPlan, deployPlanSchema, type Manifest } from '../synth/spec';
import { commitStage, dropStage, newStage } from '../synth/stage';
import type { PlanStep } from './apply';
import { type DeployState, readState } from './state';

/** A whole number ≥ 1 given as an option, `fallback` when not given, undefined when malformed. */
export function positiveInt(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  return /^[1-9]\d*$/.test(text) ? Number(text) : undefined;
}

/** A usage mistake (exit code 2), e.g. an unknown app id. */
export class UsageError extends Error {}

export interface Selection {
  /** The freshly synthesized plan, and the manifest it came from. */
  readonly plan: DeployPlan;
  readonly manifest: Manifest;
  readonly state: DeployState;
  /** The selected apps, in plan order. */
  readonly selected: PlanStep[];
  /** Selected apps whose content differs from the recorded deploy (all selected with `force`). */
  readonly changed: PlanStep[];
  /** Selected apps deployed as they are now. */
  readonly unchanged: PlanStep[];
  readonly warnings: Problem[];
  /**
   * Where the synthesized files are: a stage beside the output directory until the command commits it
   * (then the output directory). The runner of every command commits it when the command succeeds and
   * removes it otherwise, so a refusal leaves the output directory as it was (lib/synth/stage.ts).
   */
  readonly outdir: string;
  /** Moves the files into the output directory now (deploy, before `modal deploy` runs there); returns it. */
  commit(): string;
  /** Removes the stage: this synth is never to reach the output directory (promote's --from). */
  discard(): void;
}

/**
 * Synthesizes fresh for `env` into a stage (the policy rules run here: an error throws before anything
 * else, and nothing stays), then picks the apps to deploy: `ids` (or every app), minus those whose hash
 * matches the last recorded deploy.
 */
export function selectApps(
  config: Config,
  root: string,
  env: string,
  ids: string[] | 'all',
  force: boolean,
): Selection {
  const forEnv: Config = { ...config, modal: { ...config.modal, environment: env } }; // its context: applyConfigContext
  const stage = newStage(config.output);
  try {
    const { warnings, manifest } = synthFromConfig(forEnv, config.output, false, stage);
    const plan = deployPlanSchema.parse(JSON.parse(readFileSync(path.join(stage, 'deploy-plan.json'), 'utf8')));
    const known = plan.steps.map((s) => s.appId);
    const unknown = ids === 'all' ? [] : ids.filter((id) => !known.includes(id));
    if (unknown.length > 0) {
      throw new UsageError(
        `unknown app id${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => show(u)).join(', ')}: expected one of ${known.join(', ')}`,
      );
    }
    const selected = plan.steps.filter((s) => ids === 'all' || ids.includes(s.appId));
    const state = readState(root, env);
    const isChanged = (s: PlanStep) => force || state.apps[s.appId]?.hash !== s.hash;
    let outdir = stage;
    return {
      plan,
      manifest,
      state,
      selected,
      changed: selected.filter(isChanged),
      unchanged: selected.filter((s) => !isChanged(s)),
      warnings,
      get outdir() {
        return outdir;
      },
      commit: () => {
        outdir = commitStage(stage);
        return outdir;
      },
      discard: () => dropStage(stage),
    };
  } catch (e) {
    dropStage(stage);
    throw e;
  }
}

/** `flux: changed (1a2b3c4d5e6f → 9f8e7d6c5b4a)`, `wan26: new`, `seedvr2: unchanged`. */
export function describeStep(step: PlanStep, state: DeployState, force: boolean): string {
  const previous = state.apps[step.appId];
  if (!previous) return `${step.appId}: new in this environment`;
  if (previous.hash === step.hash) return `${step.appId}: unchanged${force ? ' (--force: deployed anyway)' : ''}`;
  return `${step.appId}: changed (${previous.hash.slice(0, 12)} → ${step.hash.slice(0, 12)})`;
}

/** `flux: 1 warm L40S ≈ $46.83 a day, $1404.90 in 30 days; buffer 1: $1.95 per busy hour`, or no warm GPU. */
export function describeStandingCost(step: PlanStep): string {
  const c = step.standingCost;
  const usd = (v: number | null) => (v === null ? '(no catalog price)' : `$${v.toFixed(2)}`);
  const buffer = c.bufferUsdPerBusyHour ? `; buffer: ${usd(c.bufferUsdPerBusyHour)} per busy hour` : '';
  const cold = `; a cold start ≈ ${formatDuration(step.coldStart.estimatedSeconds)} (${step.coldStart.modelGb} GB of models, ${step.coldStart.warmedEndpoints} endpoint(s) warmed; an estimate)`;
  if (c.averageWarmContainers === 0)
    return `${step.appId}: no warm ${c.gpu} (a cold start after each quiet spell)${buffer}${cold}`;
  return `${step.appId}: ${c.averageWarmContainers} warm ${c.gpu} on average ≈ ${usd(c.usdPerDay)} a day, ${usd(c.usdPer30Days)} in 30 days${buffer}${cold}`;
}
