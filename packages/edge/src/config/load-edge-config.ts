/**
 * Builds the edge's one config object from four layers, later wins:
 * schema defaults < config file (--config or BURROW_CONFIG) < env (BURROW_*) < CLI flags.
 * Reads no globals: the CLI passes process.env and its parsed flags in.
 */
import { isAbsolute, resolve } from 'node:path';
import { readConfigFile, type ConfigFile } from './config-file.js';
import { configInvalid, describeIssues } from './config-problems.js';
import { findContradictions } from './contradictions.js';
import type { EdgeConfig, Env, LoadEdgeConfigOptions } from './edge-config.js';
import { edgeConfigSchema } from './edge-schema.js';
import { layerInputs } from './layers.js';
import { EDGE_SETTINGS } from './setting-list.js';
import { resolveTlsFiles, tlsFileProblems } from './tls-files.js';

/** Env name of the config file path; the --config flag wins over it. */
export const CONFIG_PATH_ENV = 'BURROW_CONFIG';

function configPath(flag: string | undefined, env: Env, cwd: string): string | null {
  const chosen = [flag, env[CONFIG_PATH_ENV]].find((value) => value !== undefined && value.trim() !== '');
  if (chosen === undefined) return null;
  return isAbsolute(chosen) ? chosen : resolve(cwd, chosen);
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const inner of Object.values(value)) {
    if (typeof inner === 'object' && inner !== null) deepFreeze(inner);
  }
  return Object.freeze(value);
}

/**
 * Throws TunnelError TUN_ERR_CONFIG_INVALID naming every bad setting and its source, or a
 * file that cannot be read or parsed. Contradictions between settings are checked once
 * every setting is valid on its own. The result is deeply frozen.
 */
export function loadEdgeConfig(options: LoadEdgeConfigOptions): EdgeConfig {
  const { env, cwd } = options;
  const flags = options.flags ?? {};
  const path = configPath(flags.config, env, cwd);
  const file: ConfigFile | null = path === null ? null : readConfigFile(path);
  // `config` names the file itself and is not a setting, so keep it out of the layers.
  const { config: _configFlag, ...settingFlags } = flags;
  const layered = layerInputs({ settings: EDGE_SETTINGS, file, env, flags: settingFlags });

  const result = edgeConfigSchema.safeParse(layered.input);
  if (!result.success) throw configInvalid(describeIssues(result.error.issues, layered, EDGE_SETTINGS));

  const config: EdgeConfig = {
    ...result.data,
    dataDir: resolve(cwd, result.data.dataDir),
    tls: resolveTlsFiles(result.data.tls, cwd),
  };
  const contradictions = [...findContradictions(config, layered), ...tlsFileProblems(config, layered)];
  if (contradictions.length > 0) throw configInvalid(contradictions);
  return deepFreeze(config);
}
