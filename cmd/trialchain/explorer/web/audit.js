// The auditor's page: load the Go verifier (verify.wasm), read the two
// files, call trialchainVerify and show VERIFIED or FAILED with the
// failing records. ?genesis=URL&bundle=URL fetch the files instead (links
// and the browser test).
"use strict";
const $ = (id) => document.getElementById(id);
const files = { genesis: null, bundle: null };

const ready = (async () => {
  const go = new Go();
  const resp = await fetch("/verify.wasm");
  if (!resp.ok) throw new Error(await resp.text());
  const { instance } = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  go.run(instance);
  $("status").textContent = "Verifier ready.";
})().catch((e) => { $("status").textContent = "The verifier did not load: " + e.message; throw e; });

function show(r) {
  const v = $("verdict");
  v.textContent = r.verified ? "VERIFIED" : "FAILED";
  v.className = r.verified ? "VERIFIED" : "FAILED";
  $("summary").textContent = r.summary;
  const ol = $("failures");
  ol.replaceChildren(...r.failures.map((f) => { const li = document.createElement("li"); li.textContent = f; return li; }));
}

async function run() {
  if (!files.genesis || !files.bundle) return;
  await ready;
  $("status").textContent = "Verifying…";
  const t0 = performance.now();
  show(globalThis.trialchainVerify(files.bundle, files.genesis));
  $("status").textContent = "Verified in this browser in " + Math.round(performance.now() - t0) + " ms.";
}

async function take(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  // The genesis names validators; a bundle names records.
  const head = new TextDecoder().decode(bytes.subarray(0, 4096));
  if (/"validators"\s*:/.test(head) && !/"records"\s*:/.test(head)) files.genesis = bytes; else files.bundle = bytes;
}

for (const id of ["genesis", "bundle"]) {
  $(id).addEventListener("change", async (e) => {
    if (e.target.files[0]) files[id] = new Uint8Array(await e.target.files[0].arrayBuffer());
    run();
  });
}
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  for (const f of e.dataTransfer.files) await take(f);
  run();
});

const q = new URLSearchParams(location.search);
if (q.get("genesis") && q.get("bundle")) {
  (async () => {
    for (const id of ["genesis", "bundle"]) {
      const r = await fetch(q.get(id));
      files[id] = new Uint8Array(await r.arrayBuffer());
    }
    run();
  })();
}
