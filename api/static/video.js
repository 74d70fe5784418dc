// Live video panel (ES module, no dependencies): 请求视频, live view, snapshot, talkback, hang up.
//
//   import { mountVideoPanel } from "/static/video.js";
//   const panel = mountVideoPanel(el, { enterprise, purpose: "restart_verification",
//                                       links: { restart_request_id: "RR-1" },
//                                       getToken: () => token });
//   panel.destroy();   // leaves the session (it stays up for others) and removes the panel
//
// The server is the answerer (aiortc gathers every candidate before answering), so the browser
// waits for its own ICE gathering to finish and posts one complete offer: no trickle ICE.

const LABELS = {
  request: "请求视频", snapshot: "截图", talk: "按住说话", hangup: "挂断", rec: "录像中",
  requested: "等待现场应答…", connecting: "正在连接…", live: "直播中", ended: "已结束",
  failed: "失败", micDenied: "无法使用麦克风", recordings: "录像", download: "下载",
};

const STYLE = `
.swv { display: grid; gap: .5rem; font: inherit; }
.swv-bar { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.swv-video { width: 100%; max-width: 960px; aspect-ratio: 4 / 3; background: #111; }
.swv-state { font-weight: 600; }
.swv-rec { color: #c62828; font-weight: 700; }
.swv-rec::before { content: "● "; }
.swv-error { color: #c62828; min-height: 1.2em; }
.swv-talk.active { background: #c62828; color: #fff; }
.swv-shot { max-width: 320px; border: 1px solid #ccc; }
`;

function injectStyle() {
  if (document.getElementById("swv-style")) return;
  const el = document.createElement("style");
  el.id = "swv-style";
  el.textContent = STYLE;
  document.head.appendChild(el);
}

function tokenOf(options) {
  const t = typeof options.getToken === "function" ? options.getToken() : options.token;
  return t || "";
}

async function call(options, method, path, body) {
  const headers = { Authorization: `Bearer ${tokenOf(options)}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${options.apiBase || ""}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json() : await res.blob();
  if (!res.ok) {
    const err = (data && data.error) || {};
    const e = new Error(err.message || `HTTP ${res.status}`);
    e.status = res.status;
    e.code = err.code;
    throw e;
  }
  return data;
}

function waitGathering(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(done, ms);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function mountVideoPanel(container, options) {
  injectStyle();
  const L = { ...LABELS, ...(options.labels || {}) };
  const root = document.createElement("div");
  root.className = "swv";
  root.innerHTML = `
    <div class="swv-bar">
      <button type="button" class="primary swv-request"></button>
      <button type="button" class="swv-snapshot" disabled></button>
      <button type="button" class="swv-talk" disabled></button>
      <button type="button" class="swv-hangup" disabled></button>
      <span class="swv-state"></span>
      <span class="swv-rec" hidden></span>
    </div>
    <video class="swv-video" autoplay playsinline muted></video>
    <div class="swv-error" role="alert"></div>
    <img class="swv-shot" alt="" hidden>`;
  container.appendChild(root);
  const $ = (sel) => root.querySelector(sel);
  const ui = {
    request: $(".swv-request"), snapshot: $(".swv-snapshot"), talk: $(".swv-talk"),
    hangup: $(".swv-hangup"), state: $(".swv-state"), rec: $(".swv-rec"),
    video: $(".swv-video"), error: $(".swv-error"), shot: $(".swv-shot"),
  };
  ui.request.textContent = L.request;
  ui.snapshot.textContent = L.snapshot;
  ui.talk.textContent = L.talk;
  ui.hangup.textContent = L.hangup;
  ui.rec.textContent = L.rec;

  const st = { session: null, viewerId: null, pc: null, audio: null, mic: null, poll: null,
               alive: true };

  const showError = (e) => { ui.error.textContent = e ? (e.message || String(e)) : ""; };
  const setSession = (s) => {
    st.session = s;
    ui.state.textContent = s ? `${L[s.state] || s.state}${s.failure_reason ? `：${s.failure_reason}` : ""}` : "";
    ui.rec.hidden = !(s && s.live && s.live.recording);
    const open = s && ["requested", "connecting", "live"].includes(s.state);
    ui.request.disabled = !!open;
    ui.hangup.disabled = !open;
    ui.snapshot.disabled = !(s && s.state === "live");
    ui.talk.disabled = !(s && s.state === "live" && st.pc);
    if (typeof options.onChange === "function") options.onChange(s);
  };

  async function refresh() {
    if (!st.session) return null;
    const s = await call(options, "GET", `/api/v1/video/sessions/${st.session.id}`);
    setSession(s);
    return s;
  }

  async function watch() {
    const ice = await call(options, "GET", "/api/v1/video/ice-servers");
    const pc = new RTCPeerConnection({ iceServers: ice.iceServers || [] });
    st.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    st.audio = pc.addTransceiver("audio", { direction: "sendonly" });
    pc.ontrack = (ev) => {
      if (ev.track.kind === "video") ui.video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed") showError(new Error("视频连接失败（网络/NAT？）"));
    };
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathering(pc, 3000);
    const answer = await call(options, "POST", `/api/v1/video/sessions/${st.session.id}/viewer`,
                              { type: "offer", sdp: pc.localDescription.sdp });
    st.viewerId = answer.viewer_id;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  async function start() {
    showError(null);
    ui.shot.hidden = true;
    try {
      const body = { enterprise: options.enterprise, purpose: options.purpose || "guidance",
                     note: options.note || "", ...(options.links || {}) };
      setSession(await call(options, "POST", "/api/v1/video/sessions", body));
      let s = st.session;
      while (st.alive && s && (s.state === "requested" || s.state === "connecting")) {
        await sleep(400);
        s = await refresh();
      }
      if (!s || s.state !== "live") return;
      await watch();
      setSession(s);
      st.poll = setInterval(() => refresh().then((x) => {
        if (x && !["requested", "connecting", "live"].includes(x.state)) teardown();
      }).catch(showError), 2000);
    } catch (e) {
      showError(e);
    }
  }

  function teardown() {
    clearInterval(st.poll);
    st.poll = null;
    if (st.mic) { st.mic.stop(); st.mic = null; }
    if (st.pc) { st.pc.close(); st.pc = null; }
    ui.video.srcObject = null;
    ui.talk.classList.remove("active");
    setSession(st.session);
  }

  async function talk(on) {
    if (!st.audio) return;
    try {
      if (on && !st.mic) {
        const media = await navigator.mediaDevices.getUserMedia({ audio: true });
        st.mic = media.getAudioTracks()[0];
      }
      await st.audio.sender.replaceTrack(on ? st.mic : null);
      ui.talk.classList.toggle("active", on);
    } catch (e) {
      showError(new Error(`${L.micDenied}: ${e.message || e}`));
    }
  }

  async function snapshot() {
    try {
      const blob = await call(options, "GET", `/api/v1/video/sessions/${st.session.id}/snapshot.jpg`);
      if (ui.shot.src) URL.revokeObjectURL(ui.shot.src);
      ui.shot.src = URL.createObjectURL(blob);
      ui.shot.hidden = false;
      return blob;
    } catch (e) { showError(e); return null; }
  }

  async function hangup(reason) {
    if (!st.session) return;
    try {
      setSession(await call(options, "POST", `/api/v1/video/sessions/${st.session.id}/hangup`,
                            { reason: reason || "" }));
    } catch (e) { showError(e); }
    teardown();
  }

  ui.request.addEventListener("click", start);
  ui.snapshot.addEventListener("click", snapshot);
  ui.hangup.addEventListener("click", () => hangup());
  ui.talk.addEventListener("pointerdown", () => talk(true));
  for (const ev of ["pointerup", "pointerleave", "pointercancel"]) {
    ui.talk.addEventListener(ev, () => { if (ui.talk.classList.contains("active")) talk(false); });
  }

  async function stats() {
    const out = { framesDecoded: 0, framesPerSecond: 0, frameWidth: 0, audioPacketsSent: 0 };
    if (!st.pc) return out;
    const report = await st.pc.getStats();
    report.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") {
        out.framesDecoded = r.framesDecoded || 0;
        out.framesPerSecond = r.framesPerSecond || 0;
        out.frameWidth = r.frameWidth || 0;
      }
      if (r.type === "outbound-rtp" && r.kind === "audio") out.audioPacketsSent = r.packetsSent || 0;
    });
    return out;
  }

  function destroy() {
    st.alive = false;
    if (st.session && st.viewerId) {
      fetch(`${options.apiBase || ""}/api/v1/video/sessions/${st.session.id}/viewers/${st.viewerId}`,
            { method: "DELETE", keepalive: true,
              headers: { Authorization: `Bearer ${tokenOf(options)}` } }).catch(() => {});
    }
    teardown();
    root.remove();
  }

  return { start, hangup, snapshot, talk, stats, destroy, video: ui.video,
           get session() { return st.session; } };
}

// A list of an enterprise's sessions with their recordings (fetched with the bearer token,
// since a <video src> cannot carry it); only roles allowed by the server can play them.
export async function mountRecordingList(container, options) {
  injectStyle();
  const L = { ...LABELS, ...(options.labels || {}) };
  const q = new URLSearchParams({ limit: String(options.limit || 20) });
  if (options.enterprise) q.set("enterprise", options.enterprise);
  if (options.restartRequestId) q.set("restart_request_id", options.restartRequestId);
  const rows = await call(options, "GET", `/api/v1/video/sessions?${q}`);
  const list = document.createElement("ul");
  list.className = "swv-recordings";
  for (const s of rows.filter((r) => r.recording)) {
    const li = document.createElement("li");
    const when = new Date(s.requested_at).toLocaleString();
    const secs = Math.round(s.recording.duration_s || 0);
    li.textContent = `${when} · ${s.purpose} · ${s.requested_by} · ${secs}s `;
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = L.recordings;
    btn.addEventListener("click", async () => {
      try {
        const blob = await call(options, "GET", s.recording.url);
        const v = document.createElement("video");
        v.controls = true;
        v.className = "swv-video";
        v.src = URL.createObjectURL(blob);
        li.appendChild(v);
        btn.disabled = true;
      } catch (e) { li.append(` ${e.message}`); }
    });
    li.appendChild(btn);
    list.appendChild(li);
  }
  container.appendChild(list);
  return list;
}
