// The live page of `mdp orchestrator`: one card per store and per pipeline, kept up to date
// from the server-sent `topology` events of /api/events, each with a chart of its last ten
// minutes (seeded from /api/history), and, once a control token is typed, the controls that
// POST to /api/control.
(function () {
  "use strict";

  const WINDOW_SEC = 600;
  const TOKEN_KEY = "mdp.orchestrator.token";
  const num = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const dec = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
  const $ = (id) => document.getElementById(id);

  const cards = new Map(); // id -> card record
  const history = new Map(); // id -> [{ts, utilization, scale, bars_per_sec, backlog}]
  let lastTs = null;
  let drawPending = false;

  // ---- small helpers -------------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setText(node, text) {
    const t = text === undefined || text === null ? "" : String(text);
    if (node.textContent !== t) node.textContent = t;
  }

  function setAttr(node, name, value) {
    const v = value === undefined || value === null ? "" : String(value);
    if (node.getAttribute(name) !== v) node.setAttribute(name, v);
  }

  function isNum(v) {
    return typeof v === "number" && Number.isFinite(v);
  }

  function count(v) {
    return isNum(v) ? num.format(v) : "–";
  }

  function pct(v) {
    return isNum(v) ? dec.format(v * 100) + " %" : "–";
  }

  function yesNo(v) {
    return v === true ? "yes" : v === false ? "no" : "–";
  }

  function clock(ts) {
    if (!isNum(ts)) return "–";
    const d = new Date(ts * 1000);
    const two = (n) => String(n).padStart(2, "0");
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function ago(seenTs, nowTs) {
    if (!isNum(seenTs) || !isNum(nowTs)) return "";
    const s = Math.max(0, nowTs - seenTs);
    if (s < 1.5) return "just now";
    if (s < 120) return Math.round(s) + " s ago";
    return Math.round(s / 60) + " min ago";
  }

  function word(v, fallback) {
    return typeof v === "string" && v !== "" ? v : fallback;
  }

  // ---- history ------------------------------------------------------------------------

  function sampleOf(role, m, ts) {
    if (role === "store") return { ts: ts, utilization: m.utilization };
    return { ts: ts, scale: m.scale, bars_per_sec: m.bars_per_sec, backlog: m.backlog };
  }

  function appendSample(id, sample) {
    if (!isNum(sample.ts)) return;
    let list = history.get(id);
    if (!list) {
      list = [];
      history.set(id, list);
    }
    const last = list[list.length - 1];
    if (last && last.ts >= sample.ts) return;
    list.push(sample);
    const cut = sample.ts - WINDOW_SEC - 5;
    let drop = 0;
    while (drop < list.length && list[drop].ts < cut) drop++;
    if (drop) list.splice(0, drop);
  }

  function seedHistory(doc) {
    const members = doc && Array.isArray(doc.members) ? doc.members : [];
    members.forEach((m) => {
      if (!m || typeof m.id !== "string" || !Array.isArray(m.samples)) return;
      const live = history.get(m.id) || [];
      const firstLive = live.length ? live[0].ts : Infinity;
      const older = m.samples
        .filter((s) => s && isNum(s.ts) && s.ts < firstLive)
        .sort((a, b) => a.ts - b.ts);
      history.set(m.id, older.concat(live));
    });
    scheduleDraw();
  }

  // ---- cards --------------------------------------------------------------------------

  const STORE_FIELDS = [
    ["queue", "queue"],
    ["utilization", "utilization"],
    ["breaker", "breaker"],
    ["paused", "intake paused"],
    ["written", "written"],
    ["version", "version"],
  ];
  const PIPELINE_FIELDS = [
    ["provider", "provider"],
    ["scale", "scale"],
    ["bars_per_sec", "bars/s"],
    ["base_rate", "base rate"],
    ["published", "published"],
    ["backlog", "backlog"],
    ["paused", "paused"],
    ["version", "version"],
  ];

  function chartFor(role, canvas) {
    const percent = (v) => (isNum(v) ? Math.round(v * 100) + "%" : "–");
    const series =
      role === "store"
        ? [{ label: "queue utilization", color: "#2f6fdf", min: 0, max: 1, format: percent }]
        : [
            { label: "rate scale", color: "#2f6fdf", min: 0, max: 1, format: percent },
            { label: "bars/s", color: "#1a9a63" },
            { label: "backlog", color: "#9a4fd0" },
          ];
    return new window.MdpChart(canvas, { windowSec: WINDOW_SEC, series: series });
  }

  function createCard(role, id) {
    const root = el("article", "card");
    root.setAttribute("data-member-id", id);
    root.setAttribute("data-role", role);

    const head = el("header", "card-head");
    const title = el("h3", "member-id", id);
    const level = el("span", "level");
    head.append(title, level);

    const state = el("p", "state");
    const health = el("span", "health");
    const presence = el("span", "presence");
    const seen = el("span", "seen muted");
    state.append(health, presence, seen);

    const reason = el("p", "reason");

    const stats = el("dl", "stats");
    const fields = {};
    (role === "store" ? STORE_FIELDS : PIPELINE_FIELDS).forEach(([key, label]) => {
      const row = el("div");
      const dd = el("dd");
      row.append(el("dt", null, label), dd);
      stats.append(row);
      fields[key] = dd;
    });

    const canvas = el("canvas", "chart");
    canvas.setAttribute("role", "img");
    canvas.setAttribute(
      "aria-label",
      role === "store"
        ? "queue utilization over the last 10 minutes"
        : "rate scale, bars per second and backlog over the last 10 minutes"
    );

    root.append(head, state, reason, stats, canvas);
    const card = {
      id: id,
      role: role,
      root: root,
      level: level,
      health: health,
      presence: presence,
      seen: seen,
      reason: reason,
      fields: fields,
      chart: chartFor(role, canvas),
      controls: null,
      rateInput: null,
    };
    syncCardControls(card);
    return card;
  }

  function updateCard(card, m, nowTs) {
    const root = card.root;
    const level = word(m.level, "unknown");
    const presence = word(m.presence, "unknown");
    const health = word(m.health, "unknown");
    setAttr(root, "data-level", level);
    setAttr(root, "data-presence", presence);
    setAttr(root, "data-health", health);

    const levelText = m.level_reason ? level + " · " + m.level_reason : level;
    setText(card.level, levelText);
    setAttr(card.level, "data-level", level);
    setText(card.health, health);
    setAttr(card.health, "data-health", health);
    setText(card.presence, presence);
    setAttr(card.presence, "data-presence", presence);
    setText(card.seen, presence === "live" ? "" : "last seen " + ago(m.last_seen_ts, nowTs));
    setText(card.reason, word(m.reason, ""));

    const f = card.fields;
    if (card.role === "store") {
      setText(f.queue, count(m.queue_size) + " / " + count(m.capacity));
      setText(f.utilization, pct(m.utilization));
      setText(f.breaker, word(m.breaker, "–"));
      setAttr(f.breaker, "data-breaker", word(m.breaker, ""));
      setText(f.paused, yesNo(m.paused));
      setText(f.written, count(m.written));
      setText(f.version, word(m.version, "–"));
    } else {
      setText(f.provider, word(m.provider, "–"));
      setText(f.scale, isNum(m.scale) ? m.scale.toFixed(2) + " (" + pct(m.scale) + ")" : "–");
      setText(f.bars_per_sec, isNum(m.bars_per_sec) ? dec.format(m.bars_per_sec) : "–");
      setText(f.base_rate, isNum(m.base_rate) ? dec.format(m.base_rate) + " /s" : "–");
      setText(f.published, count(m.published));
      setText(f.backlog, count(m.backlog));
      setText(f.paused, yesNo(m.paused));
      setText(f.version, word(m.version, "–"));
      if (card.rateInput && isNum(m.base_rate)) {
        setAttr(card.rateInput, "placeholder", String(m.base_rate));
      }
    }
    setAttr(f.paused, "data-paused", m.paused === true ? "true" : "false");
  }

  function syncSection(container, role, members, nowTs, seen) {
    const list = members
      .filter((m) => m && typeof m.id === "string" && m.id !== "")
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    list.forEach((m) => {
      const key = role + ":" + m.id;
      seen.add(key);
      let card = cards.get(key);
      if (!card) {
        card = createCard(role, m.id);
        cards.set(key, card);
      }
      updateCard(card, m, nowTs);
    });
    // Put the cards in id order, moving nodes only when the order is wrong.
    const wanted = list.map((m) => cards.get(role + ":" + m.id).root);
    const current = Array.from(container.querySelectorAll(":scope > article.card"));
    const same = wanted.length === current.length && wanted.every((n, i) => n === current[i]);
    if (!same) {
      wanted.forEach((node, i) => {
        const at = container.querySelectorAll(":scope > article.card")[i];
        if (at !== node) container.insertBefore(node, at || null);
      });
    }
    const empty = container.querySelector(":scope > .empty");
    if (empty) empty.hidden = list.length > 0;
    return list.length;
  }

  // ---- topology -----------------------------------------------------------------------

  function applyTopology(t) {
    if (!t || typeof t !== "object") return;
    // A snapshot older than the one shown (the first fetch racing the stream) is dropped.
    if (isNum(t.ts)) {
      if (lastTs !== null && t.ts < lastTs) return;
      lastTs = t.ts;
    }
    const ts = isNum(t.ts) ? t.ts : Date.now() / 1000;

    const stores = Array.isArray(t.stores) ? t.stores : [];
    const pipelines = Array.isArray(t.pipelines) ? t.pipelines : [];

    // Header.
    const cluster = t.cluster_id && typeof t.cluster_id.value === "string" ? t.cluster_id.value : "";
    const region = t.region && typeof t.region.name === "string" ? t.region.name : "";
    setText($("cluster"), [cluster, region].filter(Boolean).join(" · "));
    const state = word(t.health && t.health.state, "unknown");
    setText($("system-state"), state);
    setAttr($("system-state"), "data-state", state);
    setText($("system-reason"), word(t.reason, ""));
    const bars = t.bars && typeof t.bars === "object" ? t.bars : null;
    if (bars && (isNum(bars.undelivered) || isNum(bars.pending))) {
      const u = isNum(bars.undelivered) ? bars.undelivered : 0;
      const p = isNum(bars.pending) ? bars.pending : 0;
      setText($("bars-backlog"), num.format(u + p));
      setText($("bars-detail"), num.format(u) + " undelivered + " + num.format(p) + " pending");
      setAttr($("bars-detail"), "title", typeof bars.stream === "string" ? bars.stream : "");
    } else {
      setText($("bars-backlog"), "–");
      setText($("bars-detail"), "");
    }
    setText($("updated"), clock(ts));
    setAttr($("updated"), "data-ts", String(ts));

    // Cards.
    const seen = new Set();
    const ns = syncSection($("stores"), "store", stores, ts, seen);
    const np = syncSection($("pipelines"), "pipeline", pipelines, ts, seen);
    setText($("stores-count"), ns ? String(ns) : "");
    setText($("pipelines-count"), np ? String(np) : "");
    cards.forEach((card, key) => {
      if (!seen.has(key)) {
        card.root.remove();
        cards.delete(key);
        history.delete(card.id);
      }
    });

    // Samples.
    stores.forEach((m) => m && typeof m.id === "string" && appendSample(m.id, sampleOf("store", m, ts)));
    pipelines.forEach(
      (m) => m && typeof m.id === "string" && appendSample(m.id, sampleOf("pipeline", m, ts))
    );
    scheduleDraw();
  }

  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    window.requestAnimationFrame(() => {
      drawPending = false;
      cards.forEach(drawCard);
    });
  }

  function drawCard(card) {
    const list = history.get(card.id) || [];
    const keys = card.role === "store" ? ["utilization"] : ["scale", "bars_per_sec", "backlog"];
    const points = keys.map((k) => {
      const out = [];
      list.forEach((s) => {
        if (isNum(s[k])) out.push([s.ts, s[k]]);
      });
      return out;
    });
    card.chart.draw(points);
  }

  // ---- controls -----------------------------------------------------------------------

  function token() {
    return $("token").value.trim();
  }

  function button(text, action, target, extra) {
    const b = el("button", null, text);
    b.type = "button";
    b.setAttribute("data-action", action);
    b.setAttribute("data-target", target);
    b.addEventListener("click", () => {
      const value = extra ? extra() : undefined;
      if (value === null) return;
      control(action, target, value);
    });
    return b;
  }

  function syncCardControls(card) {
    const want = token() !== "";
    if (want && !card.controls) {
      const box = el("div", "card-controls");
      const id = card.id;
      const pause = button("Pause", "pause", id);
      const resume = button("Resume", "resume", id);
      if (card.role === "store") {
        pause.title = "Pause the intake of " + id;
        resume.title = "Resume the intake of " + id;
        box.append(el("span", "controls-label muted", "intake"));
      } else {
        pause.title = "Pause " + id;
        resume.title = "Resume " + id;
      }
      box.append(pause, resume);
      if (card.role === "pipeline") {
        const rate = el("span", "rate");
        const inputId = "rate-" + id.replace(/[^A-Za-z0-9_-]/g, "_");
        const label = el("label", "visually-hidden", "Base rate of " + id + ", bars per second");
        label.htmlFor = inputId;
        const input = el("input");
        input.type = "number";
        input.id = inputId;
        input.min = "0";
        input.step = "any";
        input.inputMode = "decimal";
        input.placeholder = "bars/s";
        const set = button("Set rate", "set_rate", id, () => {
          const v = Number(input.value);
          if (input.value.trim() === "" || !Number.isFinite(v) || v <= 0) {
            showStatus("error", "set_rate " + id + ": type a rate in bars per second > 0");
            return null;
          }
          return v;
        });
        input.addEventListener("keydown", (e) => {
          if (e.key === "Enter") set.click();
        });
        rate.append(label, input, set);
        box.append(rate);
        card.rateInput = input;
      }
      card.controls = box;
      card.root.append(box);
    } else if (!want && card.controls) {
      card.controls.remove();
      card.controls = null;
      card.rateInput = null;
    }
  }

  function syncControls() {
    const want = token() !== "";
    const bar = $("global-controls");
    bar.hidden = !want;
    const slot = $("global-buttons");
    if (want && !slot.firstChild) {
      slot.append(button("Pause all", "pause", "all"), button("Resume all", "resume", "all"));
    } else if (!want) {
      slot.replaceChildren();
      setText($("control-status"), "");
    }
    cards.forEach(syncCardControls);
  }

  function showStatus(kind, text) {
    const out = $("control-status");
    setAttr(out, "data-status", kind);
    setText(out, text);
  }

  function describe(action, target, value) {
    return action + (value !== undefined ? " " + value : "") + " → " + target;
  }

  async function control(action, target, value) {
    const body = { action: action, target: target };
    if (value !== undefined) body.value = value;
    const what = describe(action, target, value);
    showStatus("pending", what + ": sending…");
    let response;
    try {
      response = await fetch("/api/control", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + token() },
        body: JSON.stringify(body),
      });
    } catch (e) {
      showStatus("error", what + ": request failed (" + (e && e.message ? e.message : e) + ")");
      return;
    }
    let doc = null;
    try {
      doc = await response.json();
    } catch (e) {
      doc = null;
    }
    if (response.status === 401) {
      showStatus("error", what + ": 401 unauthorized: the token was refused");
      return;
    }
    if (!response.ok) {
      const why = doc && typeof doc.error === "string" ? doc.error : response.statusText;
      showStatus("error", what + ": " + response.status + " " + why);
      return;
    }
    const parts = [];
    const result = doc && doc.result ? doc.result : null;
    const ok = result ? result.status === "ok" : false;
    parts.push(what + ": " + (result ? word(result.status, "?") : "?") +
      (result && result.detail ? " (" + result.detail + ")" : ""));
    const replies = doc && Array.isArray(doc.replies) ? doc.replies : [];
    replies.forEach((r) => {
      if (!r) return;
      const res = r.result || {};
      parts.push("  " + word(r.member, "?") + ": " + word(res.status, "?") + (res.detail ? " (" + res.detail + ")" : ""));
    });
    const missing = doc && Array.isArray(doc.missing) ? doc.missing : [];
    if (missing.length) parts.push("  no answer from " + missing.join(", "));
    showStatus(ok && !missing.length ? "ok" : "error", parts.join("\n"));
  }

  // ---- wiring -------------------------------------------------------------------------

  function setStream(state, text) {
    setAttr($("stream-state"), "data-state", state);
    setText($("stream-state"), text);
  }

  async function getJson(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(path + ": " + response.status);
    return response.json();
  }

  let source = null;
  function connect() {
    source = new EventSource("/api/events");
    source.onopen = () => setStream("live", "live");
    source.addEventListener("topology", (e) => {
      let t = null;
      try {
        t = JSON.parse(e.data);
      } catch (err) {
        setStream("error", "bad event");
        return;
      }
      setStream("live", "live");
      applyTopology(t);
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        setStream("down", "disconnected, retrying");
        source.close();
        window.setTimeout(connect, 3000);
      } else {
        setStream("down", "reconnecting");
      }
    };
  }

  function start() {
    const input = $("token");
    let saved = "";
    try {
      saved = window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      saved = "";
    }
    input.value = saved;
    input.addEventListener("input", () => {
      try {
        if (input.value === "") window.sessionStorage.removeItem(TOKEN_KEY);
        else window.sessionStorage.setItem(TOKEN_KEY, input.value);
      } catch (e) {
        // storage unavailable: the token lives only in the field
      }
      syncControls();
    });
    syncControls();
    window.addEventListener("resize", scheduleDraw);

    getJson("/api/topology").then(applyTopology, () => setStream("down", "no topology yet"));
    getJson("/api/history").then(seedHistory, () => undefined);
    connect();
  }

  start();
})();
