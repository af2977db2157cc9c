/**
 * Building blocks for the settings schema. Each setting's zod `error` is the requirement it
 * states ("an integer from 1 to 65535"), so a failed check reads as "<setting> must be
 * <requirement>"; names that cannot be derived from the key live in `settingMeta`.
 */
import * as z from 'zod';

export interface SettingMeta {
  /** Replaces this key's part of derived env names (publicUrl -> PUBLIC gives BURROW_PUBLIC_PORT). */
  readonly envSegment?: string;
  /** Extra env names, read only when the derived name is unset (so the Burrow-specific one wins). */
  readonly envAliases?: readonly string[];
  /** Key in the CLI flags object, i.e. commander's camelCase of the `--kebab-case` flag. */
  readonly flag?: string;
  /** The value may hold a password: error messages never echo it. */
  readonly secret?: boolean;
}

/** Naming and handling hints for settings and groups, keyed by the schema as it sits in its parent's shape. */
export const settingMeta = z.registry<SettingMeta>();

/**
 * Node timers overflow above 2^31-1 ms and then fire after 1 ms, so a longer timeout
 * would silently become an immediate one.
 */
export const MAX_TIMER_MS = 2_147_483_647;

export const GROUP_REQUIREMENT = 'a mapping of settings';

/** What the `parse*` functions of config/ return: the value, or the requirement it failed. */
type Parsed = { readonly ok: true } | { readonly ok: false; readonly requirement: string };

/**
 * A zod transform running one of config/'s `parse*` functions: `pick` takes the value from a
 * success; a failure's requirement becomes the setting's message.
 */
export function parsedBy<I, R extends Parsed, O>(
  parse: (value: I) => R,
  pick: (parsed: Extract<R, { ok: true }>) => O,
): (value: I, ctx: z.RefinementCtx<I>) => O {
  return (value, ctx) => {
    const parsed = parse(value);
    if (parsed.ok) return pick(parsed as Extract<R, { ok: true }>);
    ctx.addIssue({ code: 'custom', message: parsed.requirement });
    return z.NEVER;
  };
}

function rangeText(min: number, max: number): string {
  return max >= Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
}

/** Attaches naming hints to a schema and returns it unchanged. */
export function withMeta<T extends z.ZodType>(schema: T, meta: SettingMeta): T {
  settingMeta.add(schema, meta);
  return schema;
}

/** A whole number in [min, max] with a default. */
export function intSetting(defaultValue: number, min: number, max: number = Number.MAX_SAFE_INTEGER) {
  return z
    .number({ error: rangeText(min, max) })
    .int()
    .min(min)
    .max(max)
    .default(defaultValue);
}

/** Milliseconds that feed a timer, capped at what Node timers can hold. */
export function msSetting(defaultValue: number, min: number) {
  return intSetting(defaultValue, min, MAX_TIMER_MS);
}

export function boolSetting(defaultValue: boolean) {
  return z.boolean({ error: 'true or false' }).default(defaultValue);
}

export function enumSetting<const T extends readonly [string, ...string[]]>(
  values: T,
  defaultValue: T[number],
) {
  return z.enum(values, { error: `one of ${values.join(', ')}` }).default(defaultValue);
}

/** Every member of a group has a default, so an absent group can default to `{}`. */
type DefaultedShape = Record<string, z.ZodDefault | z.ZodPrefault>;

/** A group of settings; unknown keys are rejected so a typo in a config file is an error, not a no-op. */
export function group<S extends DefaultedShape>(shape: S) {
  const schema = z.strictObject(shape, { error: GROUP_REQUIREMENT });
  // TS cannot see through the generic shape that `{}` is a valid input; DefaultedShape guarantees it.
  return schema.prefault({} as z.input<typeof schema>);
}
