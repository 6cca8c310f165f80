/**
 * Where `raftwire start` takes its settings from: flags, the environment, a JSON config file.
 * Every setting has one name, the flag's: `--leader-wait` is `RAFTWIRE_LEADER_WAIT` in the
 * environment and `"leader-wait"` in the file. A flag wins over the environment, which wins over
 * the file, so a file can hold a cluster's common settings and a flag or variable adjust one node.
 *
 * @example
 * ```ts
 * // node.json: { "id": "n1", "peers": { "n1": { "raft": "127.0.0.1:7001", "client": "http://127.0.0.1:8001" } }, "leader-wait": 250 }
 * const merged = mergeStartSettings({ heartbeat: '20' }, process.env, readFileSync('node.json', 'utf8'), 'node.json');
 * if (merged.ok) merged.values['leader-wait']; // '250'
 * ```
 */
import { readFileSync } from 'node:fs';
import { NODE_OPTION_SPECS } from './node-options.js';

/** The settings of `raftwire start`, by flag name; `join` is the one switch. */
export const START_SETTING_NAMES = ['id', 'peers', 'data', 'join', ...(Object.keys(NODE_OPTION_SPECS) as (keyof typeof NODE_OPTION_SPECS)[])] as const;
export type StartSettingName = (typeof START_SETTING_NAMES)[number];
export type StartValues = { [K in Exclude<StartSettingName, 'join'>]?: string } & { join?: boolean };

export type MergedStartSettings = { ok: true; values: StartValues } | { ok: false; message: string };

/** `leader-wait` → `RAFTWIRE_LEADER_WAIT`. */
export function envName(setting: StartSettingName): string {
  return `RAFTWIRE_${setting.toUpperCase().replaceAll('-', '_')}`;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/**
 * Merges the three sources. `configText` is the file's content (undefined: no file); its keys
 * must be setting names, its values strings, numbers or booleans (`peers` may also be the JSON
 * object itself). A bad file or value is a message naming where it came from.
 */
export function mergeStartSettings(flags: StartValues, env: NodeJS.ProcessEnv, configText: string | undefined, configPath = 'the config file'): MergedStartSettings {
  const fromFile: StartValues = {};
  if (configText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(configText);
    } catch (error) {
      return { ok: false, message: `${configPath} is not valid JSON: ${(error as Error).message}` };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, message: `${configPath} must hold a JSON object of settings` };
    for (const [key, value] of Object.entries(parsed)) {
      if (!(START_SETTING_NAMES as readonly string[]).includes(key)) {
        return { ok: false, message: `${configPath}: unknown setting "${key}"; the settings are the flag names: ${START_SETTING_NAMES.join(', ')}` };
      }
      const name = key as StartSettingName;
      if (name === 'join') {
        if (typeof value !== 'boolean') return { ok: false, message: `${configPath}: "join" must be true or false` };
        fromFile.join = value;
      } else if (name === 'peers' && typeof value === 'object' && value !== null) {
        fromFile.peers = JSON.stringify(value);
      } else if (typeof value === 'string' || typeof value === 'number') {
        fromFile[name] = String(value);
      } else {
        return { ok: false, message: `${configPath}: "${name}" must be a string or a number` };
      }
    }
  }
  const values: StartValues = {};
  for (const name of START_SETTING_NAMES) {
    const variable = env[envName(name)];
    if (name === 'join') {
      let fromEnv: boolean | undefined;
      if (variable !== undefined) {
        const lower = variable.trim().toLowerCase();
        if (!TRUE.has(lower) && !FALSE.has(lower)) return { ok: false, message: `${envName(name)} must be true or false; got "${variable}"` };
        fromEnv = TRUE.has(lower);
      }
      const join = flags.join ?? fromEnv ?? fromFile.join;
      if (join !== undefined) values.join = join;
      continue;
    }
    const value = flags[name] ?? variable ?? fromFile[name];
    if (value !== undefined) values[name] = value;
  }
  return { ok: true, values };
}

/**
 * The config file named by `--config` or else `RAFTWIRE_CONFIG`: its path and text, neither if
 * none is named, or why it cannot be read.
 */
export function readConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv): { ok: true; path?: string; text?: string } | { ok: false; message: string } {
  const path = flag ?? env.RAFTWIRE_CONFIG;
  if (path === undefined) return { ok: true };
  try {
    return { ok: true, path, text: readFileSync(path, 'utf8') };
  } catch (error) {
    return { ok: false, message: `cannot read the config file ${path}: ${(error as Error).message}` };
  }
}
