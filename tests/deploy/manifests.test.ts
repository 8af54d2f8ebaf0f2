// The deployment files agree with the code: k8s/ manifests, compose.yaml and the Containerfile
// use roles that src/roles/index.ts offers, variables that src/config.ts reads, probe paths and ports the
// programs serve, selectors that select the pods they mean, and the hardening the issue asks for.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { MIGRATIONS_DIR } from "../../src/db/migrate";
import { createConsumerStats } from "../../src/ingest/kafka/consumer";
import { consumerHealthHandler } from "../../src/ingest/kafka/consumer-health";
import { createConsumerMetrics } from "../../src/ingest/kafka/consumer-metrics";
import { CONSUMER_POOL_MAX } from "../../src/roles/consumer";
import { createTestDatabase, type TestDatabase } from "../support/db";
import { testApp } from "../support/http";
import { ROOT } from "../support/project";
import {
  configVariables,
  containersOf,
  k8sFiles,
  type Manifest,
  mainRoles,
  matches,
  parseYamlDocuments,
  podSpecOf,
  publishedPort,
  readManifests,
  readText,
  scriptDefaultPort,
} from "./deploy-files";

const IMAGE = "helios/analytics-service";
const SECRET_NAME = "analytics-service-secrets";
const CONFIGMAP_NAME = "analytics-service-config";
/** The consumer's statement timeout for one batch write (src/roles/consumer.ts). */
const CONSUMER_BATCH_SECONDS = 60;

const kustomization = Bun.YAML.parse(readText("k8s/kustomization.yaml")) as any;
const resourceFiles: string[] = kustomization.resources;
const manifests: Manifest[] = resourceFiles.flatMap((file) => readManifests(file));
const configMap = manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === CONFIGMAP_NAME)!;
const secretExample = readManifests("secret.example.yaml")[0]!;

function find(kind: string, name: string): Manifest {
  const manifest = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!manifest) throw new Error(`k8s/ has no ${kind} ${name}`);
  return manifest;
}

const apiDeployment = find("Deployment", "analytics-api-deployment");
const consumerDeployment = find("Deployment", "analytics-consumer-deployment");
const migrateJob = find("Job", "analytics-migrate");
const workloads = manifests.filter((m) => podSpecOf(m) !== undefined);
const apiContainer = podSpecOf(apiDeployment)!.containers[0];
const consumerContainer = podSpecOf(consumerDeployment)!.containers[0];
const podLabels = (m: Manifest) => (m.spec.template ?? m.spec.jobTemplate.spec.template).metadata.labels as Record<string, string>;

describe("k8s/ files", () => {
  test("every YAML file parses and every document names its kind, apiVersion and name", () => {
    const files = k8sFiles();
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const documents = readManifests(file);
      expect(documents.length).toBeGreaterThan(0);
      for (const document of documents) {
        if (file === "kustomization.yaml") continue;
        expect(typeof document.kind).toBe("string");
        expect(typeof document.apiVersion).toBe("string");
        expect(typeof document.metadata?.name).toBe("string");
      }
    }
  });

  test("the kustomization lists every manifest except the Secret example, into namespace helios", () => {
    const manifestFiles = k8sFiles().filter((file) => file !== "kustomization.yaml");
    expect([...resourceFiles].sort()).toEqual(manifestFiles.filter((file) => file !== "secret.example.yaml"));
    expect(kustomization.namespace).toBe("helios");
    expect(find("Namespace", "helios").kind).toBe("Namespace");
    expect(kustomization.images.map((image: { name: string }) => image.name)).toEqual([IMAGE]);
  });

  test("the image is pinned once, in the kustomization, to package.json's version; nothing uses :latest", () => {
    const { version } = JSON.parse(readText("package.json")) as { version: string };
    expect(kustomization.images).toEqual([{ name: IMAGE, newTag: version }]);
    for (const file of k8sFiles()) {
      expect({ file, latest: /:latest\b/.test(readText(`k8s/${file}`)) }).toEqual({ file, latest: false });
    }
    // The manifests name the image bare, so the kustomization is the one place a release changes.
    expect(workloads.flatMap(containersOf).map((container) => container.image)).toEqual(workloads.flatMap(containersOf).map(() => IMAGE));
  });

  test("no comment or doc states a number of migrations other than the number of files in migrations/", () => {
    const count = readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith(".sql")).length;
    const words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
    const files = [
      ...k8sFiles().map((file) => `k8s/${file}`),
      "compose.yaml",
      "Containerfile",
      "README.md",
      ...readdirSync(join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ];
    const stated = files.flatMap((file) =>
      [...readText(file).matchAll(/\b(\d+|[a-z]+) migrations\b/gi)]
        .map((match) => ({ file, said: match[1]!.toLowerCase() }))
        .filter(({ said }) => /^\d+$/.test(said) || words.includes(said))
        .map(({ file, said }) => ({ file, said: /^\d+$/.test(said) ? Number(said) : words.indexOf(said) })),
    );
    expect(stated.filter(({ said }) => said !== count)).toEqual([]);
  });

  test("no real secret is committed: the example Secret holds only a marked placeholder", () => {
    expect(manifests.some((m) => m.kind === "Secret")).toBe(false);
    expect(secretExample.kind).toBe("Secret");
    expect(secretExample.metadata.name).toBe(SECRET_NAME);
    for (const value of Object.values(secretExample.stringData as Record<string, string>)) expect(value).toStartWith("REPLACE_ME");
    expect(secretExample.data).toBeUndefined();
  });
});

/** Read by the runtime, not by src/config.ts (JavaScriptCore's heap sizing). */
const RUNTIME_VARIABLES = ["BUN_JSC_forceRAMSize"];

describe("workloads", () => {
  test("the API Deployment carries the original's name and labels with 2 replicas", () => {
    const labels = { app: "helios", component: "analytics-service", role: "api" };
    expect(apiDeployment.metadata.labels).toEqual(labels);
    expect(podLabels(apiDeployment)).toEqual(labels);
    expect(apiDeployment.spec.replicas).toBe(2);
  });

  test("the consumer Deployment is role consumer and runs no more replicas than the topic has partitions", () => {
    expect(podLabels(consumerDeployment)).toEqual({ app: "helios", component: "analytics-service", role: "consumer" });
    const kafkaInit = compose.services["kafka-init"].command as string[];
    const partitions = Number(kafkaInit[kafkaInit.indexOf("--partitions") + 1]);
    expect(partitions).toBeGreaterThanOrEqual(1);
    expect(consumerDeployment.spec.replicas).toBeLessThanOrEqual(partitions);
  });

  test("every workload's selector matches its own pod labels and no other workload's", () => {
    for (const workload of workloads.filter((m) => m.kind === "Deployment")) {
      const selector = workload.spec.selector.matchLabels;
      expect(matches(selector, podLabels(workload))).toBe(true);
      for (const other of workloads.filter((m) => m !== workload)) expect(matches(selector, podLabels(other))).toBe(false);
    }
  });

  test("the Service, PodDisruptionBudget and autoscaler all point at the API pods only", () => {
    const service = find("Service", "analytics-service");
    expect(service.spec.type).toBe("ClusterIP");
    expect(matches(service.spec.selector, podLabels(apiDeployment))).toBe(true);
    expect(service.spec.selector.role).toBe("api");
    expect(matches(service.spec.selector, podLabels(consumerDeployment))).toBe(false);
    expect(matches(service.spec.selector, podLabels(migrateJob))).toBe(false);
    expect(service.spec.ports).toEqual([{ name: "http", port: 8000, targetPort: "http", protocol: "TCP" }]);
    expect(apiContainer.ports.map((p: { name: string }) => p.name)).toContain(service.spec.ports[0].targetPort);

    const pdb = manifests.find((m) => m.kind === "PodDisruptionBudget")!;
    expect(pdb.apiVersion).toBe("policy/v1");
    expect(pdb.spec.minAvailable).toBe(1);
    expect(matches(pdb.spec.selector.matchLabels, podLabels(apiDeployment))).toBe(true);
    expect(matches(pdb.spec.selector.matchLabels, podLabels(consumerDeployment))).toBe(false);

    const hpa = manifests.find((m) => m.kind === "HorizontalPodAutoscaler")!;
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "analytics-api-deployment" });
    expect(hpa.spec.minReplicas).toBe(apiDeployment.spec.replicas);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics[0].resource.name).toBe("cpu");
  });

  test("the migration Job runs the migrate role once, with bounded retries and a TTL", () => {
    expect(containersOf(migrateJob).map((c) => c.args)).toEqual([["migrate"]]);
    expect(migrateJob.spec.backoffLimit).toBeGreaterThanOrEqual(1);
    expect(migrateJob.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(podSpecOf(migrateJob)!.containers[0].restartPolicy ?? migrateJob.spec.template.spec.restartPolicy).toBe("Never");
  });

  test("every container runs one of the roles in src/roles/index.ts from the project image", () => {
    const roles = mainRoles();
    for (const workload of workloads) {
      for (const container of containersOf(workload)) {
        expect(container.image).toBe(IMAGE);
        expect(container.command).toBeUndefined(); // the image's ENTRYPOINT is the program
        expect(container.args).toHaveLength(1);
        expect(roles.has(container.args[0])).toBe(true);
      }
    }
  });

  test("every container has CPU and memory requests and limits, limits at least the requests", () => {
    const bytes = (quantity: string) => {
      const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
      const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity)!;
      return Number(match[1]) * (units[match[2] ?? ""] ?? 1);
    };
    const millicores = (quantity: string) => (quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000);
    for (const container of workloads.flatMap(containersOf)) {
      const { requests, limits } = container.resources;
      expect(bytes(limits.memory)).toBeGreaterThanOrEqual(bytes(requests.memory));
      expect(millicores(String(limits.cpu))).toBeGreaterThanOrEqual(millicores(String(requests.cpu)));
    }
  });

  test("every pod runs as uid 10001, non-root, read-only, without privilege escalation or capabilities", () => {
    for (const workload of workloads) {
      const pod = podSpecOf(workload)!;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } });
      for (const container of containersOf(workload)) {
        expect(container.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        });
      }
    }
  });

  test("API pods drain before SIGTERM and the consumer's grace period outlasts a batch", () => {
    const apiGrace = podSpecOf(apiDeployment)!.terminationGracePeriodSeconds!;
    const preStopSleep = apiContainer.lifecycle.preStop.sleep.seconds;
    expect(preStopSleep).toBeGreaterThanOrEqual(3);
    expect(apiGrace).toBeGreaterThan(preStopSleep + 10);
    expect(podSpecOf(consumerDeployment)!.terminationGracePeriodSeconds!).toBeGreaterThan(CONSUMER_BATCH_SECONDS);
  });
});

describe("configuration", () => {
  const known = configVariables();

  test("the list of variables src/config.ts reads is found in its source", () => {
    for (const name of ["DB_HOST", "DB_PASSWORD", "DATABASE_URL", "KAFKA_BROKERS", "LOG_LEVEL", "PORT", "CONSUMER_HEALTH_PORT"]) {
      expect(known.has(name)).toBe(true);
    }
  });

  test("every variable the ConfigMap, the Secret example and the containers set is one the config reads", () => {
    const set = [
      ...Object.keys(configMap.data),
      ...Object.keys(secretExample.stringData),
      ...workloads.flatMap(containersOf).flatMap((c) => (c.env ?? []).map((e: { name: string }) => e.name)),
    ];
    expect(set.filter((name) => !known.has(name) && !RUNTIME_VARIABLES.includes(name))).toEqual([]);
  });

  test("the API and the consumer tell the JavaScript engine their own container's memory limit", () => {
    for (const container of [apiContainer, consumerContainer]) {
      const variable = (container.env ?? []).find((e: { name: string }) => e.name === "BUN_JSC_forceRAMSize");
      expect(variable?.valueFrom).toEqual({ resourceFieldRef: { containerName: container.name, resource: "limits.memory" } });
      expect(container.resources.limits.memory).toMatch(/^\d+Mi$/);
    }
  });

  test("every container reads the ConfigMap and takes DB_PASSWORD from a key the Secret has", () => {
    for (const container of workloads.flatMap(containersOf)) {
      expect(container.envFrom).toEqual([{ configMapRef: { name: CONFIGMAP_NAME } }]);
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (!ref) continue;
        expect(ref.name).toBe(SECRET_NAME);
        expect(Object.keys(secretExample.stringData)).toContain(ref.key);
      }
    }
    expect(Object.values(configMap.data).every((value) => typeof value === "string")).toBe(true);
  });

  test("the connection budget in docs/operations.md is what k8s/ and the code add up to, under max_connections 100", () => {
    const hpa = manifests.find((m) => m.kind === "HorizontalPodAutoscaler")!;
    const settings = loadConfig(configMap.data);
    // The API's change feed holds one connection while the aggregate cache is on (src/db/change-feed.ts);
    // a consumer runs storage maintenance on a pool of one while MAINTENANCE_INTERVAL_MS > 0.
    const listener = settings.aggregateCacheTtlMs > 0 ? 1 : 0;
    const maintenance = settings.storage.maintenanceIntervalMs > 0 ? 1 : 0;
    const apiPods = hpa.spec.maxReplicas as number;
    const consumers = consumerDeployment.spec.replicas as number;
    // The migrate and maintain roles each use one pool of one connection (src/roles/migrate.ts, maintain.ts).
    const total = apiPods * (settings.db.poolMax + listener) + consumers * (CONSUMER_POOL_MAX + maintenance) + 1 + 1;
    expect(total).toBeLessThan(100);
    const docs = readText("docs/operations.md").replace(/\s+/g, " ");
    expect(docs).toContain(
      `${apiPods} API pods × (\`DB_POOL_MAX\` ${settings.db.poolMax} + ${listener} listening for changes) + ${consumers} consumers × (${CONSUMER_POOL_MAX} + ${maintenance} for storage maintenance) + the migrate Job's 1 + the maintain CronJob's 1 = ${total} connections`,
    );
    expect(docs).toContain(`Each replica holds up to ${CONSUMER_POOL_MAX + maintenance} database connections`);
    // The ConfigMap points at the docs instead of keeping a second figure that drifts.
    expect(readText("k8s/configmap.yaml")).not.toMatch(/\d+ connections/);
  });

  test("the container ports are the ports the ConfigMap tells the programs to listen on", () => {
    const port = (container: any, name: string) => container.ports.find((p: { name: string }) => p.name === name)?.containerPort;
    expect(port(apiContainer, "http")).toBe(Number(configMap.data.PORT));
    expect(port(consumerContainer, "metrics")).toBe(Number(configMap.data.CONSUMER_HEALTH_PORT));
    expect(apiDeployment.spec.template.metadata.annotations["prometheus.io/port"]).toBe(configMap.data.PORT);
    expect(consumerDeployment.spec.template.metadata.annotations["prometheus.io/port"]).toBe(configMap.data.CONSUMER_HEALTH_PORT);
  });
});

describe("probes", () => {
  let db: TestDatabase;
  let api: ReturnType<typeof testApp>;
  beforeAll(async () => {
    db = await createTestDatabase("manifests");
    api = testApp(db.config, db.sql);
  });
  afterAll(async () => {
    await db.drop();
  });

  test("the API's probe and scrape paths answer 200 from the app on a migrated database", async () => {
    const probes = [apiContainer.readinessProbe, apiContainer.livenessProbe];
    expect(probes.map((p) => p.httpGet.path).sort()).toEqual(["/healthz", "/readyz"]);
    const paths = [...probes.map((p) => p.httpGet.path), apiDeployment.spec.template.metadata.annotations["prometheus.io/path"]];
    for (const path of paths) expect({ path, status: (await api.get(path)).status }).toEqual({ path, status: 200 });
    for (const probe of probes) expect(apiContainer.ports.map((p: { name: string }) => p.name)).toContain(probe.httpGet.port);
  });

  test("the consumer's probe and scrape paths, on the port named metrics, answer 200 from its health server when it runs", async () => {
    const probes = [consumerContainer.readinessProbe, consumerContainer.livenessProbe];
    expect(probes.map((p) => p.httpGet.path).sort()).toEqual(["/healthz", "/readyz"]);
    for (const probe of probes) expect(probe.httpGet.port).toBe("metrics");
    // The handler the consumer role serves on CONSUMER_HEALTH_PORT, for a member in its group whose
    // database just answered (tests/ingest/consumer-metrics.test.ts runs the real process).
    const stats = { ...createConsumerStats(), state: "running" as const, inGroup: true, dbAnsweredAt: Date.now() };
    const handle = consumerHealthHandler({
      port: 0,
      stats,
      registry: createConsumerMetrics(stats, "auction_outcomes").registry,
      pingDatabase: () => Promise.reject(new Error("not needed: the database answered just now")),
    });
    const paths = [...probes.map((p) => p.httpGet.path), consumerDeployment.spec.template.metadata.annotations["prometheus.io/path"]];
    for (const path of paths) {
      const response = await handle(new Request(`http://consumer:9464${path}`));
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
  });
});

const compose = Bun.YAML.parse(readText("compose.yaml")) as any;

describe("compose.yaml", () => {
  const appServices = ["migrate", "api", "consumer"];

  test("has PostgreSQL, Kafka, the topic job, migrate, api and consumer", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["api", "consumer", "kafka", "kafka-init", "migrate", "postgres"]);
    expect(compose.services.postgres.image).toContain("postgres");
    expect(compose.services.kafka.image).toContain("apache/kafka");
    expect(compose.services.kafka.environment.KAFKA_PROCESS_ROLES).toBe("broker,controller");
  });

  test("the app services build the Containerfile into one image and run roles from src/main.ts", () => {
    const roles = mainRoles();
    for (const name of appServices) {
      const service = compose.services[name];
      expect(service.build.dockerfile).toBe("Containerfile");
      expect(existsSync(join(ROOT, service.build.context, service.build.dockerfile))).toBe(true);
      expect(service.image).toBe(compose.services.api.image);
      expect(service.command).toEqual([name]);
      expect(roles.has(service.command[0])).toBe(true);
      expect(service.init).toBe(true);
      expect(service.user).toBe("10001:10001");
    }
  });

  test("sets only variables the config reads and publishes the API on 8000", () => {
    const known = configVariables();
    for (const name of appServices) {
      expect(Object.keys(compose.services[name].environment).filter((variable) => !known.has(variable))).toEqual([]);
    }
    expect(compose.services.api.ports.map(publishedPort)).toContainEqual({
      hostIp: "127.0.0.1",
      host: 8000,
      container: Number(compose.services.api.environment.PORT),
    });
    const consumerPort = Number(compose.services.consumer.environment.CONSUMER_HEALTH_PORT);
    expect(compose.services.consumer.ports.map(publishedPort).some((port: { container: number }) => port.container === consumerPort)).toBe(true);
  });

  test("publishes every port on 127.0.0.1 only, and none on a port a local server or a project script uses", () => {
    // A local PostgreSQL, and the throwaway servers scripts/test.sh starts when none answers.
    const taken = new Set([
      5432,
      scriptDefaultPort("scripts/pg-local.sh", "PG_LOCAL_PORT"),
      scriptDefaultPort("scripts/kafka-local.sh", "KAFKA_PORT"),
      scriptDefaultPort("scripts/kafka-local.sh", "KAFKA_CONTROLLER_PORT"),
    ]);
    const published = (Object.entries(compose.services) as [string, any][]).flatMap(([service, spec]) =>
      (spec.ports ?? []).map((entry: string) => ({ service, ...publishedPort(entry) })),
    );
    expect(published.map(({ service }) => service).sort()).toEqual(["api", "consumer", "kafka", "postgres"]);
    for (const port of published) {
      expect({ ...port, hostTaken: taken.has(port.host!) }).toEqual({ ...port, hostIp: "127.0.0.1", host: expect.any(Number), hostTaken: false });
    }
    // The docs give the address compose publishes PostgreSQL on.
    const postgres = published.find(({ service }) => service === "postgres")!;
    expect(readText("docs/operations.md")).toContain(`127.0.0.1:${postgres.host}`);
  });

  test("starts in order: databases healthy, then migrate to completion, then api and consumer", () => {
    const conditions = (name: string) =>
      Object.fromEntries(Object.entries(compose.services[name].depends_on ?? {}).map(([dependency, spec]: [string, any]) => [dependency, spec.condition]));
    expect(conditions("migrate")).toEqual({ postgres: "service_healthy" });
    expect(conditions("kafka-init")).toEqual({ kafka: "service_healthy" });
    expect(conditions("api")).toEqual({ migrate: "service_completed_successfully" });
    expect(conditions("consumer")).toEqual({ migrate: "service_completed_successfully", "kafka-init": "service_completed_successfully" });
    for (const [name, service] of Object.entries(compose.services) as [string, any][]) {
      for (const [dependency, spec] of Object.entries(service.depends_on ?? {}) as [string, any][]) {
        if (spec.condition === "service_healthy")
          expect({ name, dependency, healthcheck: !!compose.services[dependency].healthcheck }).toEqual({ name, dependency, healthcheck: true });
      }
    }
  });
});

describe("Containerfile", () => {
  const containerfile = readText("Containerfile");
  const instructions = containerfile.split("\n").filter((line) => /^[A-Z]+\s/.test(line));

  test("builds on an overridable official Bun base and installs from the frozen lockfile", () => {
    expect(containerfile).toMatch(/^ARG BASE_IMAGE=docker\.io\/oven\/bun:[\d.]+$/m);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Containerfile's own ARG reference, literally.
    expect(containerfile).toContain("FROM ${BASE_IMAGE} AS build");
    expect(containerfile).toContain("bun install --frozen-lockfile");
    expect(containerfile).toContain("scripts/build-binary.sh");
  });

  test("runs the program as uid 10001 with api as the default role", () => {
    const roles = mainRoles();
    const cmd = JSON.parse(instructions.findLast((line) => line.startsWith("CMD "))!.slice(4)) as string[];
    expect(roles.has(cmd[0]!)).toBe(true);
    expect(cmd).toEqual(["api"]);
    expect(instructions).toContain("USER 10001:10001");
    expect(instructions).toContain('ENTRYPOINT ["/app/helios-analytics"]');
    expect(instructions).toContain("STOPSIGNAL SIGTERM");
    expect(instructions.some((line) => /^EXPOSE .*\b8000\b/.test(line))).toBe(true);
  });

  test("the build context lets in every file the COPY instructions need, and nothing else", () => {
    const ignore = readText(".containerignore")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"));
    const allowed = ignore.filter((line) => line.startsWith("!")).map((line) => line.slice(1).replace(/\/$/, ""));
    expect(ignore[0]).toBe("*");
    const sources = instructions
      .filter((line) => line.startsWith("COPY ") && !line.includes("--from"))
      .flatMap((line) => line.slice(5).trim().split(/\s+/).slice(0, -1));
    for (const source of sources) expect(allowed).toContain(source.replace(/^\.\//, "").replace(/\/$/, ""));
    for (const path of allowed) expect(existsSync(join(ROOT, path))).toBe(true);
    const dockerignore = readText(".dockerignore")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"));
    expect(dockerignore).toEqual(ignore);
  });
});

describe("kubectl kustomize k8s/", () => {
  const kubectl = Bun.which("kubectl");
  if (!kubectl) console.warn("kubectl not found on PATH: skipping the `kubectl kustomize k8s/` render check");

  test.skipIf(!kubectl)("renders every resource into namespace helios with the pinned image", () => {
    const result = Bun.spawnSync([kubectl!, "kustomize", join(ROOT, "k8s")], { stderr: "pipe", timeout: 30_000 });
    expect(result.stderr.toString()).toBe("");
    expect(result.exitCode).toBe(0);
    const rendered = parseYamlDocuments(result.stdout.toString()) as Manifest[];
    expect(rendered.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort());
    for (const manifest of rendered.filter((m) => m.kind !== "Namespace")) expect(manifest.metadata.namespace).toBe("helios");
    const tag = kustomization.images[0].newTag;
    for (const container of rendered.flatMap(containersOf)) expect(container.image).toBe(`${IMAGE}:${tag}`);
  });
});
