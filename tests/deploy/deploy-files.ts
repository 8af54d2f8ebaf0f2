// Reads the deployment files (k8s/, compose.yaml, Containerfile) and the facts of the code they
// must agree with (the environment variables src/config.ts reads, the roles src/roles/index.ts offers).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROLES } from "../../src/roles";
import { ROOT } from "../support/project";

export const K8S_DIR = join(ROOT, "k8s");

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
};

export function readText(relative: string): string {
  return readFileSync(join(ROOT, relative), "utf8");
}

/** Every YAML document of a file; Bun.YAML.parse returns an array for a multi-document file. */
export function parseYamlDocuments(text: string): unknown[] {
  const parsed = Bun.YAML.parse(text);
  const documents = text.includes("\n---") && Array.isArray(parsed) ? parsed : [parsed];
  return documents.filter((document) => document !== null && document !== undefined);
}

export function k8sFiles(): string[] {
  return readdirSync(K8S_DIR)
    .filter((name) => name.endsWith(".yaml") || name.endsWith(".yml"))
    .sort();
}

export function readManifests(file: string): Manifest[] {
  return parseYamlDocuments(readFileSync(join(K8S_DIR, file), "utf8")) as Manifest[];
}

/**
 * The environment variables src/config.ts reads, from its source text: `read…(env, "NAME", …)`
 * and `env.NAME`. Derived rather than listed so that a variable added to or removed from the
 * config is seen here without anyone keeping a second list.
 */
export function configVariables(): Set<string> {
  const source = readText("src/config.ts");
  const names = new Set<string>();
  for (const match of source.matchAll(/\bread\w*\(\s*env\s*,\s*"([A-Z][A-Z0-9_]*)"/g)) names.add(match[1]!);
  for (const match of source.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*"([A-Z][A-Z0-9_]*)"\s*\])/g)) names.add((match[1] ?? match[2])!);
  return names;
}

/** The roles the program offers (src/roles/index.ts), which manifests and compose may name. */
export function mainRoles(): Set<string> {
  return new Set(Object.keys(ROLES));
}

export type PodSpec = { containers: any[]; initContainers?: any[]; securityContext?: any; terminationGracePeriodSeconds?: number; volumes?: any[] };

/** The pod template of a workload (Deployment, Job, CronJob), or undefined for other kinds. */
export function podSpecOf(manifest: Manifest): PodSpec | undefined {
  // A CronJob's pods are one level deeper, in its Job template.
  return manifest.spec?.template?.spec ?? manifest.spec?.jobTemplate?.spec?.template?.spec;
}

export function containersOf(manifest: Manifest): any[] {
  const pod = podSpecOf(manifest);
  return pod ? [...(pod.initContainers ?? []), ...pod.containers] : [];
}

export function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

export interface PublishedPort {
  /** The host address it listens on; undefined: every interface. */
  hostIp: string | undefined;
  /** The host port; undefined: one the engine picks. */
  host: number | undefined;
  container: number;
}

/** A compose `ports:` entry, short (`[ip:][host:]container[/proto]`, ip maybe `[v6]`) or long syntax. */
export function publishedPort(entry: string | number | { host_ip?: string; published?: string | number; target: number }): PublishedPort {
  if (typeof entry === "object") {
    return { hostIp: entry.host_ip, host: entry.published === undefined ? undefined : Number(entry.published), container: Number(entry.target) };
  }
  let text = String(entry).replace(/\/\w+$/, "");
  let hostIp: string | undefined;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) [, hostIp, text] = bracketed as unknown as [string, string, string];
  const parts = text.split(":");
  if (!bracketed && parts.length === 3) hostIp = parts.shift();
  const container = Number(parts.pop());
  const host = parts.length > 0 ? Number(parts[0]) : undefined;
  return { hostIp, host, container };
}

/** The port a script starts its server on by default: `NAME:-1234` in its source. */
export function scriptDefaultPort(script: string, variable: string): number {
  const match = new RegExp(`\\b${variable}:-(\\d+)`).exec(readText(script));
  if (!match) throw new Error(`${script} has no default for ${variable}`);
  return Number(match[1]);
}
