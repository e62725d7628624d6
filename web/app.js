// The specfuse playground: streams an answer from /v1/chat/completions with the round
// trace on, tints each accepted segment by the model that wrote it, and draws how every
// round was decided. Plain DOM, no framework; every server string goes in as text.
"use strict";

(() => {
  const PALETTE = ["#3b5bdb", "#e8590c", "#0ca678", "#c2255c", "#7048e8", "#2b8a3e",
                   "#1971c2", "#b08800", "#5c940d", "#862e9c"];

  const $ = (id) => document.getElementById(id);
  const ui = {
    state: $("server-state"), keyForm: $("api-key-form"), key: $("api-key"),
    model: $("model"), compare: $("compare"), segment: $("segment-tokens"),
    maxTokens: $("max-tokens"), temperature: $("temperature"), seed: $("seed"),
    weights: $("weights"), score: $("score"), exit: $("exit"),
    form: $("prompt-form"), prompt: $("prompt"), send: $("send"), stop: $("stop"),
    answerTitle: $("answer-title"), legend: $("legend"), answer: $("answer"), stats: $("stats"),
    comparePanel: $("compare-panel"), compareTitle: $("compare-title"),
    compareAnswer: $("compare-answer"), compareStats: $("compare-stats"),
    timeline: $("timeline"), detailsTitle: $("details-title"), detailsMeta: $("details-meta"),
    details: $("details"),
  };

  // What the page knows; `window.playground.last` is the latest ensemble run (its
  // request, rounds, segments and summary), for people poking at it in the console and
  // for the browser test.
  const page = {
    apiKey: "",          // kept in this page only, never stored
    ensemble: "specfuse",
    members: [],
    colors: new Map(),
    controller: null,
    pinned: 0,           // the round whose details stay shown; 0: none
    last: null,
    compare: null,
  };
  window.playground = page;

  // ---- small DOM helpers ----------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "color") node.style.setProperty("--c", v);
      else if (k === "vars") for (const [name, value] of Object.entries(v)) node.style.setProperty(name, value);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function placeholder(text) { return el("p", { class: "placeholder", text }); }

  function colorOf(model) {
    if (!model) return "#868e96";
    if (!page.colors.has(model)) page.colors.set(model, PALETTE[page.colors.size % PALETTE.length]);
    return page.colors.get(model);
  }

  function fmt(x, digits = 2) {
    return x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(digits);
  }

  function ms(x) {
    if (x === null || x === undefined) return "–";
    return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
  }

  // Whitespace a reader can see: a candidate may be a newline or a few spaces.
  function visible(text) {
    if (text === "") return "(empty)";
    return text.replace(/\n/g, "↵\n");
  }

  // ---- the server ------------------------------------------------------------------

  function headers() {
    const h = { "Content-Type": "application/json" };
    if (page.apiKey) h.Authorization = `Bearer ${page.apiKey}`;
    return h;
  }

  async function errorMessage(res) {
    try {
      const body = await res.json();
      if (body && body.error && body.error.message) return `${res.status}: ${body.error.message}`;
    } catch (_) { /* not JSON */ }
    return `${res.status} ${res.statusText}`;
  }

  function needKey(message) {
    ui.keyForm.hidden = false;
    ui.state.textContent = message;
    ui.state.className = "server-state warn";
    ui.key.focus();
  }

  async function loadModels() {
    let res;
    try {
      res = await fetch("/v1/models", { headers: headers() });
    } catch (e) {
      ui.state.textContent = "server unreachable";
      ui.state.className = "server-state bad";
      return;
    }
    if (res.status === 401) {
      needKey(page.apiKey ? "that key was refused" : "this server needs an API key");
      return;
    }
    if (!res.ok) {
      ui.state.textContent = await errorMessage(res);
      ui.state.className = "server-state bad";
      return;
    }
    const list = (await res.json()).data || [];
    if (!list.length) return;
    page.ensemble = list[0].id;
    page.members = list.slice(1).map((m) => m.id);
    page.colors.clear();
    page.members.forEach(colorOf);
    ui.model.replaceChildren(el("option", { value: page.ensemble, text: `${page.ensemble} (ensemble of ${page.members.length})` }),
                             ...page.members.map((m) => el("option", { value: m, text: `${m} (alone)` })));
    ui.compare.replaceChildren(el("option", { value: "", text: "no comparison" }),
                               ...page.members.map((m) => el("option", { value: m, text: m })));
    ui.keyForm.hidden = !page.apiKey;
    ui.state.textContent = `ready · ${page.members.length} models`;
    ui.state.className = "server-state ok";
    ui.send.disabled = false;
    drawLegend(null);
  }

  // POSTs body and calls onChunk with every parsed server-sent event until [DONE].
  async function streamChat(body, signal, onChunk) {
    const res = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers(), body: JSON.stringify(body), signal,
    });
    if (res.status === 401) needKey("the API key was refused");
    if (!res.ok) throw new Error(await errorMessage(res));
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split("\n").filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
        if (!data) continue;
        if (data === "[DONE]") return;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message || "the answer failed");
        onChunk(chunk);
      }
    }
  }

  // ---- one run ---------------------------------------------------------------------

  function requestBody(model, seed) {
    const body = {
      model,
      messages: [{ role: "user", content: ui.prompt.value }],
      stream: true,
      max_tokens: Number(ui.maxTokens.value) || 256,
      temperature: Number(ui.temperature.value),
      seed,
      specfuse: {
        trace: true,
        segment_tokens: Number(ui.segment.value) || 10,
        exit: ui.exit.checked,
        weights: ui.weights.value,
        score: ui.score.value,
      },
    };
    return body;
  }

  function newRun(body) {
    return { request: body, model: null, text: "", rounds: [], segments: [], summary: null, finish: null,
             error: null, done: false, started: performance.now(), firstTokenMs: null };
  }

  // Feeds one streamed chunk into run; returns the new segment and its round, if any.
  function absorb(run, chunk) {
    if (chunk.model) run.model = chunk.model;
    const choice = (chunk.choices || [])[0];
    const text = choice && choice.delta ? choice.delta.content || "" : "";
    const extra = chunk.specfuse || {};
    if (choice && choice.finish_reason) run.finish = choice.finish_reason;
    if (extra.summary) run.summary = extra.summary;
    if (text && run.firstTokenMs === null) run.firstTokenMs = performance.now() - run.started;
    run.text += text;
    const round = extra.round || null;
    if (round) run.rounds.push(round);
    if (!text && !round) return null;
    const segment = { text, round: round ? round.round : 0, model: round ? round.winner_model : "" };
    if (text) run.segments.push(segment);
    return { segment, round };
  }

  async function send() {
    if (page.controller) return;
    if (!ui.prompt.value.trim()) { ui.prompt.focus(); return; }
    const seed = ui.seed.value.trim() === "" ? Math.floor(Math.random() * 2 ** 31) : Number(ui.seed.value);
    const controller = new AbortController();
    page.controller = controller;
    ui.send.disabled = true;
    ui.stop.hidden = false;

    const model = ui.model.value || page.ensemble;
    const run = newRun(requestBody(model, seed));
    page.last = run;
    page.pinned = 0;
    if (model === page.ensemble) {
      ui.answerTitle.replaceChildren("Ensemble", el("small", { text: `${model} · ${page.members.length} models` }));
    } else {
      ui.answerTitle.replaceChildren(el("span", { class: "dot", color: colorOf(model) }), `${model} alone`);
    }
    ui.answer.replaceChildren();
    ui.answer.classList.add("streaming");
    ui.stats.replaceChildren();
    ui.timeline.replaceChildren(placeholder("Waiting for the first round…"));
    showRound(0);
    drawLegend(run);

    const jobs = [runEnsemble(run, controller.signal)];
    const other = ui.compare.value;
    ui.comparePanel.hidden = !other;
    $("columns").classList.toggle("two", !!other);
    page.compare = null;
    if (other) {
      const cmp = newRun(requestBody(other, seed));
      page.compare = cmp;
      ui.compareTitle.replaceChildren(el("span", { class: "dot", color: colorOf(other) }), `${other} alone`);
      ui.compareAnswer.replaceChildren();
      ui.compareAnswer.classList.add("streaming");
      ui.compareAnswer.style.setProperty("--c", colorOf(other));
      ui.compareStats.replaceChildren();
      jobs.push(runAlone(cmp, controller.signal));
    }
    await Promise.allSettled(jobs);
    page.controller = null;
    ui.send.disabled = false;
    ui.stop.hidden = true;
  }

  async function runEnsemble(run, signal) {
    try {
      await streamChat(run.request, signal, (chunk) => {
        const got = absorb(run, chunk);
        if (!got) return;
        if (got.segment.text) appendSegment(got.segment);
        if (got.round) {
          drawTimeline(run);
          drawLegend(run);
          if (!page.pinned) showRound(got.round.round);
        }
        drawStats(ui.stats, run);
      });
    } catch (e) {
      run.error = e.name === "AbortError" ? "stopped" : e.message;
    }
    run.done = true;
    ui.answer.classList.remove("streaming");
    if (!run.rounds.length && !run.text) ui.answer.replaceChildren();
    if (run.error) ui.answer.append(el("p", { class: "error", text: run.error }));
    if (!run.rounds.length) ui.timeline.replaceChildren(placeholder("No rounds."));
    drawStats(ui.stats, run);
    drawLegend(run);
  }

  async function runAlone(run, signal) {
    try {
      await streamChat(run.request, signal, (chunk) => {
        const got = absorb(run, chunk);
        if (got && got.segment.text) ui.compareAnswer.append(document.createTextNode(got.segment.text));
        drawStats(ui.compareStats, run);
      });
    } catch (e) {
      run.error = e.name === "AbortError" ? "stopped" : e.message;
    }
    run.done = true;
    ui.compareAnswer.classList.remove("streaming");
    if (run.error) ui.compareAnswer.append(el("p", { class: "error", text: run.error }));
    drawStats(ui.compareStats, run);
  }

  // ---- drawing ---------------------------------------------------------------------

  function appendSegment(segment) {
    const span = el("span", {
      class: "seg", "data-model": segment.model, "data-round": segment.round,
      color: colorOf(segment.model), title: `round ${segment.round} · ${segment.model}`,
      onmouseenter: () => showRound(segment.round),
      onclick: () => { page.pinned = page.pinned === segment.round ? 0 : segment.round; showRound(segment.round); },
    }, segment.text);
    ui.answer.append(span);
  }

  function drawLegend(run) {
    const won = (run && run.summary && run.summary.rounds_won) || {};
    const counted = {};
    if (run && !run.summary) {
      for (const r of run.rounds) if (r.winner_model) counted[r.winner_model] = (counted[r.winner_model] || 0) + 1;
    }
    const exited = new Set();
    if (run) for (const r of run.rounds) for (const m of r.exited || []) exited.add(m);
    const models = page.members.length ? page.members : [...page.colors.keys()];
    ui.legend.replaceChildren(...models.map((m) => {
      const n = run ? (won[m] ?? counted[m] ?? 0) : null;
      return el("span", { class: `chip${exited.has(m) ? " exited" : ""}`, color: colorOf(m), "data-model": m,
                          title: exited.has(m) ? `${m} exited during this answer` : m },
        el("span", { class: "dot" }), m,
        n === null ? null : el("span", { class: "count", text: `${n} won` }));
    }));
  }

  function stat(label, value, hint) {
    return el("div", { class: "stat", title: hint }, el("span", { class: "value", text: value }),
              el("span", { class: "label", text: label }));
  }

  function drawStats(target, run) {
    const s = run.summary;
    const items = [];
    const rounds = s ? s.rounds : run.rounds.length;
    items.push(stat("rounds", String(rounds)));
    if (s) {
      items.push(stat("model calls", String(s.model_calls), "draft calls plus verify calls"));
      items.push(stat("calls saved", String(s.calls_saved_by_exit), "calls that exited models would have made"));
      items.push(stat("tokens", String(s.output_tokens)));
      const tps = s.wall_ms > 0 ? s.output_tokens / (s.wall_ms / 1000) : null;
      items.push(stat("tokens/s", fmt(tps, 1), `${s.output_tokens} tokens in ${ms(s.wall_ms)}`));
    }
    items.push(stat("first token", ms(run.firstTokenMs),
                    s ? `server: first segment after ${ms(s.first_segment_ms)}` : "measured in the browser"));
    if (s) items.push(stat("wall", ms(s.wall_ms)));
    items.push(stat("seed", String(run.request.seed)));
    const status = run.error ? run.error : run.done ? (s ? `done · ${s.finish_reason}` : "done") : "streaming…";
    target.replaceChildren(...items, el("div", { class: `status${run.error ? " bad" : ""}`, text: status }));
  }

  function participants(run) {
    const seen = new Set(page.members);
    const order = [...page.members];
    for (const r of run.rounds) {
      for (const m of [...(r.active || []), ...r.candidates.flatMap((c) => c.models || [])]) {
        if (!seen.has(m)) { seen.add(m); order.push(m); }
      }
    }
    // A member asked alone takes part by itself; the others would be empty rows.
    const involved = new Set(run.rounds.flatMap((r) => [...(r.active || []), ...r.candidates.flatMap((c) => c.models || [])]));
    return order.filter((m) => involved.has(m));
  }

  function drawTimeline(run) {
    const models = participants(run);
    const grid = el("div", { class: "tl-grid" });
    grid.style.setProperty("--rounds", run.rounds.length);
    grid.append(el("div", { class: "tl-corner", text: "round" }));
    for (const r of run.rounds) {
      grid.append(el("button", { class: `tl-head${r.solo ? " solo" : ""}`, type: "button", "data-round": r.round,
                                 title: `round ${r.round}${r.solo ? " (solo)" : ""}`, text: String(r.round),
                                 onclick: () => pin(r.round), onmouseenter: () => showRound(r.round) }));
    }
    for (const m of models) {
      grid.append(el("div", { class: "tl-name", color: colorOf(m) }, el("span", { class: "dot" }), m));
      for (const r of run.rounds) {
        const active = (r.active || []).includes(m);
        const winners = r.winner >= 0 && r.candidates[r.winner] ? r.candidates[r.winner].models || [] : [];
        const won = winners.includes(m);
        const exited = (r.exited || []).includes(m);
        const failed = (r.failed || []).some((f) => f.startsWith(`${m}:`));
        const cls = ["tl-cell", active ? "active" : "off", won ? "win" : "", exited ? "exit" : "",
                     failed ? "failed" : "", r.solo ? "solo" : ""].filter(Boolean).join(" ");
        const what = won ? "won" : active ? "active" : "not taking part";
        grid.append(el("button", { class: cls, type: "button", color: colorOf(m), "data-round": r.round, "data-model": m,
                                   title: `round ${r.round} · ${m}: ${what}${exited ? ", exited after this round" : ""}${failed ? ", failed" : ""}`,
                                   onclick: () => pin(r.round), onmouseenter: () => showRound(r.round) },
                           exited ? "✕" : failed ? "!" : ""));
      }
    }
    grid.addEventListener("mouseleave", () => { if (page.pinned) showRound(page.pinned); });
    ui.timeline.replaceChildren(grid);
    markSelected(page.pinned);
  }

  function pin(round) {
    page.pinned = page.pinned === round ? 0 : round;
    showRound(page.pinned || round);
  }

  function markSelected(round) {
    for (const node of document.querySelectorAll(".selected")) node.classList.remove("selected");
    if (!round) return;
    for (const node of document.querySelectorAll(`.seg[data-round="${round}"], .tl-head[data-round="${round}"]`)) {
      node.classList.add("selected");
    }
  }

  function showRound(number) {
    const run = page.last;
    const r = run && number ? run.rounds.find((x) => x.round === number) : null;
    markSelected(r ? number : 0);
    if (!r) {
      ui.detailsTitle.textContent = "Round details";
      ui.detailsMeta.replaceChildren();
      ui.details.replaceChildren(placeholder("Hover or click a segment of the answer, or a round of the timeline."));
      return;
    }
    ui.detailsTitle.textContent = `Round ${r.round}${page.pinned === r.round ? " · pinned" : ""}`;
    const meta = [
      el("span", {}, "winner ", el("b", { class: "model-name", color: colorOf(r.winner_model), text: r.winner_model || "none" })),
      el("span", { text: `draft ${ms(r.draft_ms)}` }),
      el("span", { text: `verify ${ms(r.verify_ms)}` }),
      el("span", { text: `accept ${ms(r.accept_ms)}` }),
    ];
    if (r.exit_entropy !== null && r.exit_entropy !== undefined) {
      meta.push(el("span", { text: `exit entropy ${fmt(r.exit_entropy, 3)}`, title: "normalized entropy of the exit test" }));
    }
    ui.detailsMeta.replaceChildren(...meta);

    const verifiers = r.scores || [];
    const table = el("table", { class: "candidates" });
    const head = el("tr", {}, el("th", { text: "#" }), el("th", { class: "text-col", text: "candidate" }),
                    el("th", { text: "drafted by" }), el("th", { class: "num", text: "tokens" }));
    for (const v of verifiers) {
      const w = r.weights ? r.weights[v.verifier] : undefined;
      head.append(el("th", { class: "num verifier", title: `normalized score from ${v.verifier}` },
        el("span", { class: "model-name", color: colorOf(v.verifier), text: v.verifier }),
        el("small", { text: w === undefined ? "" : `weight ${fmt(w, 2)}` })));
    }
    head.append(el("th", { class: "num", text: "combined" }));
    table.append(el("thead", {}, head));
    const body = el("tbody");
    r.candidates.forEach((c, i) => {
      const winner = i === r.winner;
      const row = el("tr", { class: winner ? "winner" : "", "data-candidate": i });
      row.append(el("td", { class: "idx", text: winner ? "★" : String(i + 1), title: winner ? "winner" : "" }));
      row.append(el("td", { class: "text-col" }, el("span", { class: `cand-text${c.text === "" ? " empty" : ""}`, text: visible(c.text) }),
                    c.end_of_generation ? el("span", { class: "badge", text: "end", title: "ended the answer" }) : null));
      row.append(el("td", {}, ...(c.models || [c.model]).map((m) => el("span", { class: "chip small", color: colorOf(m) },
                                                                        el("span", { class: "dot" }), m))));
      row.append(el("td", { class: "num", text: String(c.tokens) }));
      for (const v of verifiers) {
        const n = v.normalized ? v.normalized[i] : null;
        const raw = v.raw ? v.raw[i] : null;
        const reused = v.reused && v.reused[i];
        row.append(el("td", { class: "num score", title: `raw ${fmt(raw, 4)}${reused ? " · reused from its own draft" : ""}`,
                              "data-verifier": v.verifier },
          el("span", { class: "bar", color: colorOf(v.verifier),
                       vars: { "--w": `${Math.max(0, Math.min(1, n || 0)) * 100}%` } }),
          el("span", { class: "score-value", text: fmt(n, 3) }),
          reused ? el("span", { class: "reused", text: "↺" }) : null));
      }
      const combined = r.combined ? r.combined[i] : null;
      row.append(el("td", { class: "num combined", text: fmt(combined, 3) }));
      body.append(row);
    });
    table.append(body);

    const notes = [];
    if (r.solo) notes.push("One model is generating alone: no drafts to compare, no verification.");
    else if (!verifiers.length) notes.push("A single distinct candidate: accepted without a vote.");
    if ((r.exited || []).length) notes.push(`Exited after this round: ${r.exited.join(", ")}.`);
    for (const f of r.failed || []) notes.push(`Failed: ${f}`);
    if (verifiers.some((v) => (v.reused || []).some(Boolean))) notes.push("↺ a drafter's score of its own candidate, reused from drafting.");
    const active = el("p", { class: "note" }, "Active: ",
      ...(r.active || []).map((m) => el("span", { class: "chip small", color: colorOf(m) }, el("span", { class: "dot" }), m)));
    ui.details.replaceChildren(el("div", { class: "table-wrap" }, table), active,
                               ...notes.map((n) => el("p", { class: "note", text: n })));
  }

  // ---- wiring ----------------------------------------------------------------------

  ui.form.addEventListener("submit", (e) => { e.preventDefault(); send(); });
  ui.prompt.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
  });
  ui.stop.addEventListener("click", () => { if (page.controller) page.controller.abort(); });
  ui.answer.addEventListener("mouseleave", () => { if (page.pinned) showRound(page.pinned); });
  ui.keyForm.addEventListener("submit", (e) => {
    e.preventDefault();
    page.apiKey = ui.key.value.trim();
    loadModels();
  });
  ui.send.disabled = true;
  loadModels();
})();
