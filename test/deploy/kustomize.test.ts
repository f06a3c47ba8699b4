// The tests' kustomize renderer: what `kubectl kustomize` makes of the
// features deploy/kubernetes uses, and a loud refusal of every other one, so
// the manifests tests never validate something kustomize would render
// differently.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { renderKustomization, UnsupportedKustomizeError } from "./kustomize.js";

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir("kustomize");
});
afterAll(async () => {
  await tmp.remove();
});

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: example/web:1
          args: [serve, --fast]
          env:
            - {name: A, value: "1"}
            - {name: B, value: "2"}
          securityContext:
            privileged: true
            runAsUser: 0
        - name: sidecar
          image: busybox:1.36
`;

/** Writes files (path → text) under a fresh directory; returns it. */
async function tree(name: string, files: Record<string, string>): Promise<string> {
  const root = join(tmp.path, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const kustomization = (body: string) => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${body}`;

describe("renderKustomization", () => {
  it("renders resources, namespace, labels, images and a strategic-merge patch from an overlay", async () => {
    const root = await tree("overlay", {
      "base/kustomization.yaml": kustomization(
        "namespace: shop\nlabels:\n  - pairs: {team: a}\n    includeSelectors: false\nresources: [web.yaml]\nimages:\n  - {name: example/web, newName: reg.example/web, newTag: '2'}\n",
      ),
      "base/web.yaml": `${DEPLOYMENT}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n`,
      "prod/kustomization.yaml": kustomization("resources: [../base]\npatches:\n  - path: patch.yaml\n"),
      "prod/patch.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          env:
            - {name: B, value: "3"}
            - {name: C, value: "4"}
          args: [serve]
          securityContext:
            privileged: false
            runAsUser: null
            capabilities: {add: [NET_ADMIN]}
`,
    });
    // kustomize prints the Namespace first (it sorts its output); this renderer keeps resource order, so look them up by kind.
    const objects = renderKustomization(join(root, "prod"));
    expect(objects).toHaveLength(2);
    const ns = objects.find((o) => o.kind === "Namespace");
    const web = objects.find((o) => o.kind === "Deployment");
    expect(ns).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { team: "a" } } });
    expect(web).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop", labels: { team: "a" } },
      spec: {
        // includeSelectors false: selectors and templates keep their labels.
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "web",
                image: "reg.example/web:2",
                // Atomic list: replaced whole.
                args: ["serve"],
                // Merged by name: B replaced in place, C added.
                env: [
                  { name: "A", value: "1" },
                  { name: "B", value: "3" },
                  { name: "C", value: "4" },
                ],
                // Merged field by field; null deletes.
                securityContext: { privileged: false, capabilities: { add: ["NET_ADMIN"] } },
              },
              // A container the patch does not name is kept, and an image of another name untouched.
              { name: "sidecar", image: "busybox:1.36" },
            ],
          },
        },
      },
    });
  });

  it.each([
    ["a field it does not render", { "kustomization.yaml": kustomization("commonAnnotations: {a: b}\nresources: [web.yaml]\n") }, /"commonAnnotations" is not rendered/],
    ["a patch with a target", { "kustomization.yaml": kustomization("resources: [web.yaml]\npatches:\n  - path: p.yaml\n    target: {kind: Deployment}\n"), "p.yaml": "x: 1\n" }, /only patches of the form \{path: FILE\}/],
    ["labels on selectors", { "kustomization.yaml": kustomization("resources: [web.yaml]\nlabels:\n  - pairs: {a: b}\n    includeSelectors: true\n") }, /labels includeSelectors: true is not rendered/],
    ["a remote resource", { "kustomization.yaml": kustomization("resources: [https://example.com/x.yaml]\n") }, /is not a local path/],
    ["a kind it cannot place", { "kustomization.yaml": kustomization("resources: [cr.yaml]\n"), "cr.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n" }, /kind Widget is not known/],
    ["a Namespace that the namespace field would rename", { "kustomization.yaml": kustomization("namespace: b\nresources: [ns.yaml]\n"), "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n" }, /Namespace a differs from namespace: b/],
    [
      "a $patch directive",
      {
        "kustomization.yaml": kustomization("resources: [web.yaml]\npatches:\n  - path: p.yaml\n"),
        "p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      $patch: replace\n",
      },
      /directive \$patch/,
    ],
    [
      "a list whose merge strategy it does not know",
      {
        "kustomization.yaml": kustomization("resources: [web.yaml]\npatches:\n  - path: p.yaml\n"),
        "p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      imagePullSecrets: [{name: x}]\n",
      },
      /imagePullSecrets: its merge strategy is not known/,
    ],
    [
      "a patch that matches nothing",
      { "kustomization.yaml": kustomization("resources: [web.yaml]\npatches:\n  - path: p.yaml\n"), "p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n" },
      /Deployment api matches 0 resources/,
    ],
  ])("refuses %s", async (name, files, message) => {
    const root = await tree(name.replace(/\W+/g, "-"), { "web.yaml": DEPLOYMENT, ...files });
    expect(() => renderKustomization(root)).toThrow(UnsupportedKustomizeError);
    expect(() => renderKustomization(root)).toThrow(message);
  });
});
