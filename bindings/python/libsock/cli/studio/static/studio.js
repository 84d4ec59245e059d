// libsock studio: the page. Plain JavaScript, no libraries; talks to the studio over one
// WebSocket (JSON; the protocol is described in libsock/cli/studio/__init__.py).
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const status = $("#status");
  const sessions = new Map(); // id -> {el, log, entries, view, paused, clients, rates, last}
  let ws = null;
  let seq = 0;

  function setStatus(text, bad) {
    status.textContent = text;
    status.className = bad ? "error" : "";
  }

  function send(obj) {
    if (!ws || ws.readyState !== WebSocket.OPEN) { setStatus("not connected to the studio", true); return; }
    ws.send(JSON.stringify(obj));
  }

  function hexToBytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function asText(bytes) {
    let s = "";
    for (const b of bytes) {
      if (b === 10) s += "\\n";
      else if (b === 13) s += "\\r";
      else if (b === 9) s += "\\t";
      else if (b >= 32 && b < 127) s += String.fromCharCode(b);
      else s += "\\x" + b.toString(16).padStart(2, "0");
    }
    return s;
  }

  function asHex(bytes) {
    const lines = [];
    for (let at = 0; at < bytes.length; at += 16) {
      const row = bytes.slice(at, at + 16);
      const hx = Array.from(row, b => b.toString(16).padStart(2, "0")).join(" ");
      const txt = Array.from(row, b => (b >= 32 && b < 127) ? String.fromCharCode(b) : ".").join("");
      lines.push(at.toString(16).padStart(8, "0") + "  " + hx.padEnd(47) + "  " + txt);
    }
    return lines.join("\n");
  }

  function stamp(t) {
    const d = new Date(t * 1000);
    return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0");
  }

  function render(s, e) {
    const div = document.createElement("div");
    if (e.kind === "data") {
      const bytes = hexToBytes(e.hex);
      div.className = "entry " + e.dir;
      const meta = document.createElement("span");
      meta.className = "meta";
      const who = e.client != null ? "client " + e.client + " " + e.peer : e.peer;
      meta.textContent = stamp(e.time) + " " + (e.dir === "in" ? "<- " : "-> ") + who +
        " " + e.len + " B" + (e.tail ? " (partial frame at end)" : "") +
        (e.truncated ? " (first 4 KiB shown)" : "") + "\n";
      const body = document.createElement("span");
      body.className = "data";
      body.textContent = s.view === "hex" ? asHex(bytes) : asText(bytes);
      div.append(meta, body);
    } else {
      div.className = "entry " + (e.kind === "error" ? "err" : "note");
      div.textContent = stamp(e.time) + " " + e.text;
    }
    return div;
  }

  function addEntry(s, e) {
    s.entries.push(e);
    if (s.entries.length > 5000) s.entries.splice(0, s.entries.length - 5000);
    if (s.paused) return;
    s.log.append(render(s, e));
    while (s.log.childElementCount > 2000) s.log.firstElementChild.remove();
    s.log.scrollTop = s.log.scrollHeight;
  }

  function redraw(s) {
    s.log.textContent = "";
    for (const e of s.entries.slice(-2000)) s.log.append(render(s, e));
    s.log.scrollTop = s.log.scrollHeight;
  }

  function drawChart(s) {
    const c = s.chart, g = c.getContext("2d");
    const w = c.width, h = c.height;
    g.clearRect(0, 0, w, h);
    const max = Math.max(1, ...s.rates.map(r => Math.max(r[0], r[1])));
    [["#16a34a", 0], ["#2563eb", 1]].forEach(([color, k]) => {
      g.strokeStyle = color; g.lineWidth = 1.5; g.beginPath();
      s.rates.forEach((r, i) => {
        const x = w - (s.rates.length - 1 - i) * (w / Math.max(19, s.rates.length - 1));
        const y = h - 4 - (r[k] / max) * (h - 16);
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    });
    g.fillStyle = "#374151"; g.font = "11px monospace";
    const last = s.rates[s.rates.length - 1] || [0, 0];
    g.fillText("in " + fmtRate(last[0]) + "  out " + fmtRate(last[1]) + "  (max " + fmtRate(max) + ")", 4, 11);
  }

  function fmtRate(b) {
    if (b >= 1048576) return (b / 1048576).toFixed(1) + " MiB/s";
    if (b >= 1024) return (b / 1024).toFixed(1) + " KiB/s";
    return b.toFixed(0) + " B/s";
  }

  function refreshTargets(s) {
    const sel = $(".send-to", s.el);
    const dest = $(".send-dest", s.el);
    if (s.kind === "udp") { sel.hidden = true; dest.hidden = false; return; }
    if (!s.kind.endsWith("server")) { sel.hidden = true; return; }
    const keep = sel.value;
    sel.textContent = "";
    const all = new Option("all clients", "all");
    sel.append(all);
    for (const [id, peer] of s.clients) sel.append(new Option("client " + id + " " + peer, String(id)));
    sel.value = [...sel.options].some(o => o.value === keep) ? keep : "all";
    const list = $(".client-list", s.el);
    list.textContent = "";
    for (const [id, peer] of s.clients) {
      const li = document.createElement("li");
      li.dataset.client = String(id);
      li.append("client " + id + " " + peer + " ");
      const kick = document.createElement("button");
      kick.className = "kick"; kick.textContent = "kick"; kick.type = "button";
      kick.addEventListener("click", () => send({op: "kick", session: s.id, client: id}));
      li.append(kick);
      list.append(li);
    }
  }

  function target(s) {
    if (s.kind === "udp") return $(".send-dest", s.el).value.trim();
    if (s.kind.endsWith("server")) return $(".send-to", s.el).value;
    return null;
  }

  function createSession(info) {
    if (sessions.has(info.session)) return sessions.get(info.session);
    const el = $("#session-template").content.firstElementChild.cloneNode(true);
    el.dataset.session = String(info.session);
    const s = {id: info.session, kind: info.kind, el, log: $(".log", el), chart: $(".chart", el),
      entries: [], view: "text", paused: false, clients: new Map(), rates: [], last: null};
    $(".title", el).textContent = "#" + info.session + " " + info.kind + " " +
      (info.local || info.address) + (info.tls ? " TLS" : "") + " [" + info.framing + "]";
    if (info.kind.endsWith("server")) $(".clients", el).hidden = false;
    for (const c of info.clients || []) s.clients.set(c.client, c.peer);
    s.rates = (info.rates || []).slice(-60);
    if (info.counters) s.last = info.counters;
    $(".close-session", el).addEventListener("click", () => send({op: "close", session: s.id}));
    $(".view-text", el).addEventListener("change", () => { s.view = "text"; $(".view-hex", el).checked = false; redraw(s); });
    $(".view-hex", el).addEventListener("change", () => { s.view = "hex"; $(".view-text", el).checked = false; redraw(s); });
    $(".pause", el).addEventListener("change", ev => { s.paused = ev.target.checked; if (!s.paused) redraw(s); });
    $(".clear", el).addEventListener("click", () => { s.entries = []; redraw(s); });
    $(".export", el).addEventListener("click", () => {
      const lines = s.entries.map(e => JSON.stringify(e)).join("\n") + "\n";
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([lines], {type: "application/x-ndjson"}));
      a.download = "libsock-session-" + s.id + ".jsonl";
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    });
    const panel = $(".send-panel", el);
    const payload = () => ({session: s.id, data: $(".send-data", el).value,
      format: $(".send-format", el).value, ending: $(".send-ending", el).value, to: target(s)});
    panel.addEventListener("submit", ev => { ev.preventDefault(); send(Object.assign({op: "send"}, payload())); });
    $(".repeat", el).addEventListener("click", () => send(Object.assign({op: "send",
      every_ms: Number($(".every", el).value) || 1000, count: Number($(".count", el).value) || 0}, payload())));
    $(".stop-repeat", el).addEventListener("click", () => send({op: "stop-repeat", session: s.id}));
    $(".send-file", el).addEventListener("click", () => {
      const f = $(".file", el).files[0];
      if (!f) { setStatus("choose a file first", true); return; }
      const r = new FileReader();
      r.onload = () => send({op: "send-file", session: s.id, to: target(s),
        b64: String(r.result).replace(/^data:[^,]*,/, "")});
      r.readAsDataURL(f);
    });
    if (info.kind === "udp") {
      // The senders seen so far, offered as destinations (send-to).
      const list = document.createElement("datalist");
      list.id = "senders-" + s.id;
      el.append(list);
      $(".send-dest", el).setAttribute("list", list.id);
      s.senders = list;
    }
    sessions.set(s.id, s);
    refreshTargets(s);
    drawChart(s);
    $("#sessions").append(el);
    return s;
  }

  function onEvent(m) {
    const s = m.session != null ? sessions.get(m.session) : null;
    const now = Date.now() / 1000;
    switch (m.ev) {
      case "hello":
        setStatus("connected to the studio (libsock " + m.version + ")");
        for (const info of m.sessions) createSession(info);
        break;
      case "opened":
        createSession(m);
        setStatus("opened #" + m.session + " " + m.kind + " " + (m.local || m.address));
        break;
      case "data":
        if (!s) break;
        addEntry(s, Object.assign({kind: "data"}, m));
        if (s.senders && m.dir === "in" && ![...s.senders.options].some(o => o.value === m.peer)) {
          s.senders.append(new Option(m.peer, m.peer));
          const dest = $(".send-dest", s.el);
          if (!dest.value) dest.value = m.peer;  // answer the first sender by default
        }
        break;
      case "client":
        if (!s) break;
        if (m.state === "connected") s.clients.set(m.client, m.peer); else s.clients.delete(m.client);
        addEntry(s, {kind: "note", time: m.time || now, text: "client " + m.client + " " + m.peer + " " + m.state + (m.reason ? " (" + m.reason + ")" : "")});
        refreshTargets(s);
        break;
      case "stats":
        if (!s) break;
        $(".counters", s.el).textContent = "in " + m.msgs_in + " msg / " + m.bytes_in + " B, out " +
          m.msgs_out + " msg / " + m.bytes_out + " B";
        if (s.last) s.rates.push([Math.max(0, m.bytes_in - s.last.bytes_in), Math.max(0, m.bytes_out - s.last.bytes_out)]);
        s.last = m;
        if (s.rates.length > 60) s.rates.shift();
        drawChart(s);
        break;
      case "note":
        if (s) addEntry(s, {kind: "note", time: m.time || now, text: m.text});
        else setStatus(m.text, true);
        break;
      case "closed":
        if (s) { addEntry(s, {kind: "note", time: now, text: "closed: " + m.reason}); s.el.classList.add("closed"); }
        break;
      case "error":
        if (s) addEntry(s, {kind: "error", time: now, text: m.message});
        setStatus(m.message, true);
        break;
    }
  }

  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
      "/ws?token=" + encodeURIComponent(token));
    ws.onmessage = ev => { try { onEvent(JSON.parse(ev.data)); } catch (e) { setStatus(String(e), true); } };
    ws.onclose = () => { setStatus("disconnected from the studio; retrying…", true); setTimeout(connect, 2000); };
  }

  $("#new-tls").addEventListener("change", ev => { $("#tls-options").hidden = !ev.target.checked; });
  $("#new-session").addEventListener("submit", ev => {
    ev.preventDefault();
    const kind = $("#new-kind").value;
    const req = {op: "open", kind, address: $("#new-address").value.trim(),
      framing: $("#new-framing").value, tag: ++seq};
    if ($("#new-tls").checked) req.tls = {enabled: true, pin: $("#new-pin").value.trim(),
      insecure: $("#new-insecure").checked};
    send(req);
  });
  connect();
})();
