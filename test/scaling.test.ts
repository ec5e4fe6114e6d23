import { averageScheduledContainers, parseCron, standingCost } from '../lib/policy/standing-cost';
import { demoStack, problemsOf } from './helpers';

const BERLIN_HOURS = [
  { cron: '0 8 * * 1-5', minContainers: 1, timezone: 'Europe/Berlin' },
  { cron: '0 20 * * *', minContainers: 0, timezone: 'Europe/Berlin' },
];

describe('warm containers and what they cost', () => {
  test('cron: numbers, *, ranges, steps and lists; 7 is Sunday; anything else is named', () => {
    const parsed = parseCron('*/15 8-20 * * 1,3,7') as { fields: Set<number>[] };
    expect([...parsed.fields[0]]).toEqual([0, 15, 30, 45]);
    expect([...parsed.fields[4]].sort()).toEqual([0, 1, 3]);
    expect(parseCron('0 8 * *')).toEqual({
      error: 'expected 5 fields (minute hour day-of-month month day-of-week), got 4',
    });
    expect(parseCron('0 25 * * *')).toEqual({ error: 'hour "25": expected values from 0 to 23' });
    expect(parseCron('0 8 * * MON')).toMatchObject({ error: expect.stringContaining('day of week "MON"') });
  });

  test('a working-hours schedule averages its warm hours over the week, in its own time zone', () => {
    // 12 hours on 5 weekdays = 60 of 168 hours.
    expect(averageScheduledContainers(BERLIN_HOURS, 0)).toBeCloseTo(60 / 168, 3);
    // minContainers stays the floor.
    expect(averageScheduledContainers(BERLIN_HOURS, 1)).toBe(1);
    const cost = standingCost('H100', 0.001097, 0, 1, BERLIN_HOURS);
    expect(cost).toEqual({
      gpu: 'H100',
      usdPerGpuHour: 3.95,
      averageWarmContainers: 0.357,
      usdPerDay: Number((0.001097 * 3600 * 24 * (60 / 168)).toFixed(2)),
      usdPer30Days: Number((0.001097 * 3600 * 24 * 30 * (60 / 168)).toFixed(2)),
      bufferUsdPerBusyHour: 3.95,
    });
  });

  test('the app spec, plan and app.py carry minContainers, bufferContainers and the warm schedule', () => {
    const { project } = demoStack({
      app: { minContainers: 2, maxContainers: 4, bufferContainers: 1, warmSchedule: BERLIN_HOURS },
    });
    const result = project.synth();
    const app = result.manifest.apps[0];
    expect(app.standingCost).toMatchObject({ gpu: 'L40S', averageWarmContainers: 2, usdPerDay: 93.66 });
    expect(result.plan.steps[0].standingCost).toEqual(app.standingCost);
    const py = result.files.get('apps/demo/app.py')!;
    expect(py).toContain('    buffer_containers=1,\n');
    expect(py).toContain(
      '@app.function(image=schedule_image, schedule=modal.Cron("0 8 * * 1-5", timezone="Europe/Berlin"), timeout=60)\ndef warm_schedule_0():',
    );
    expect(py).toContain('    ComfyUI().update_autoscaler(min_containers=1)\n');
    expect(py).toContain('def warm_schedule_1():');
    // More than one warm GPU is a note.
    expect(result.warnings.filter((w) => w.id === 'warm-gpus')).toEqual([
      expect.objectContaining({
        note: true,
        message: expect.stringContaining('app demo: keeps up to 2 containers warm'),
      }),
    ]);
  });

  test('a bad schedule is refused at synth, naming the entry', () => {
    expect(
      problemsOf(() =>
        demoStack({ app: { warmSchedule: [{ cron: '0 8 * *', minContainers: 1, timezone: 'Europe/Berlin' }] } }),
      ),
    ).toEqual([expect.stringContaining("prop 'warmSchedule.0.cron'")]);
    expect(
      problemsOf(() =>
        demoStack({ app: { warmSchedule: [{ cron: '0 8 * * *', minContainers: 1, timezone: 'Mars/Olympus' }] } }),
      ),
    ).toEqual([expect.stringContaining('expected an IANA time zone name')]);
    expect(
      problemsOf(() =>
        demoStack({
          app: { maxContainers: 1, warmSchedule: [{ cron: '0 8 * * *', minContainers: 3, timezone: 'UTC' }] },
        }),
      ),
    ).toEqual([
      expect.stringContaining("prop 'warmSchedule.0.minContainers': got 3, expected at most maxContainers (1)"),
    ]);
  });

  test('app tags and the deploy strategy are stack options', () => {
    const { project } = demoStack({ project: { appTags: true, deployStrategy: 'recreate' } });
    const result = project.synth();
    expect(result.files.get('apps/demo/app.py')).toContain(
      'app = modal.App(APP_NAME, tags={"modal-cdk.app": "demo", "modal-cdk.environment": "main", "modal-cdk.stack": "test"})',
    );
    expect(result.plan.steps[0].args.slice(-2)).toEqual(['--strategy', 'recreate']);
    const plain = demoStack().project.synth();
    expect(plain.files.get('apps/demo/app.py')).toContain('app = modal.App(APP_NAME)\n');
    expect(plain.plan.steps[0].args).not.toContain('--strategy');
  });
});
