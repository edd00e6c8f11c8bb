// policytag tagging page: calls the API of the server that serves it; nothing is fetched from elsewhere.
"use strict";

const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
                "#bfef45", "#469990", "#9a6324", "#800000", "#000075"];
const OTHER_COLOR = "#c8ccd2";
const state = { labels: [], colors: {}, names: {}, result: null, filter: null, apiKey: null };
const $ = (id) => document.getElementById(id);

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (state.apiKey) h["Authorization"] = "Bearer " + state.apiKey;  // a header, never the URL
  return h;
}

function showMessage(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = "message" + (kind === "info" ? " info" : "");
  box.hidden = !text;
}

async function explain(resp) {
  let detail = "";
  try { const body = await resp.json(); detail = body.error ? body.error.message : JSON.stringify(body); } catch (e) { /* not JSON */ }
  const what = {
    401: "需要 API 密钥，或密钥不正确。请在上方输入密钥。",
    413: "文档过大：超过服务器允许的请求大小或句子数量上限。请拆分后再试。",
    415: "不支持的文件类型：请上传 .txt、.html 或 .md 文件。",
    422: "无法处理输入：",
    429: "服务器繁忙，请稍后重试" + (resp.headers.get("Retry-After") ? "（约 " + resp.headers.get("Retry-After") + " 秒后）" : "") + "。",
    503: "模型尚未就绪或服务器正在关闭，请稍后重试。",
  }[resp.status] || "请求失败：";
  if (resp.status === 401) $("key-box").hidden = false;
  return "错误 " + resp.status + "：" + what + (detail && [422, 413].includes(resp.status) ? "（" + detail + "）" : "");
}

async function api(path, options) {
  const resp = await fetch(path, Object.assign({}, options, { headers: headers((options || {}).headers) }));
  if (!resp.ok) throw new Error(await explain(resp));
  return resp.json();
}

async function loadMeta() {
  try {
    const [labels, model] = await Promise.all([api("/v1/labels"), api("/v1/model")]);
    state.labels = labels;
    let k = 0;
    for (const l of labels) {
      state.names[l.id] = l.zh;
      state.colors[l.id] = l.id === "other" ? OTHER_COLOR : COLORS[k++ % COLORS.length];
    }
    const part = model.metrics.test ? "test" : "validation";
    const f1 = model.metrics[part] ? model.metrics[part].macro_f1 : null;
    $("model-info").textContent = "模型 " + model.name + "（" + model.version + "）· 基础模型：" +
      (model.base_model.description || model.base_model.name) +
      (f1 !== null ? " · " + (part === "test" ? "测试集" : "验证集") + " macro-F1 " + f1.toFixed(3) : "");
    $("model-info").title = "数据指纹 " + model.data_fingerprint;
    showMessage("", "");
  } catch (e) {
    $("model-info").textContent = "无法读取模型信息";
    showMessage(e.message);
  }
}

function setBusy(busy) {
  for (const id of ["tag-text", "tag-file"]) $(id).disabled = busy;
  if (busy) showMessage("正在标注…", "info");
}

async function tagText() {
  const text = $("doc-text").value;
  if (!text.trim()) { showMessage("请先粘贴报告文本。"); return; }
  setBusy(true);
  try {
    const result = await api("/v1/documents", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: text }),
    });
    render(result, text);
    showMessage("", "");
  } catch (e) { showMessage(e.message); } finally { setBusy(false); }
}

async function tagFile() {
  const file = $("doc-file").files[0];
  if (!file) { showMessage("请先选择文件。"); return; }
  const form = new FormData();
  form.append("file", file);
  setBusy(true);
  try {
    const result = await api("/v1/documents/file", { method: "POST", body: form });
    render(result, null);
    showMessage("", "");
  } catch (e) { showMessage(e.message); } finally { setBusy(false); }
}

function scoresTable(s) {
  const rows = state.labels.map((l) => [l, s.scores[l.id] || 0]).sort((a, b) => b[1] - a[1]);
  let html = "<p>" + escapeHtml(s.text) + "</p><table>";
  for (const [l, p] of rows) {
    const on = s.labels.includes(l.id);
    html += "<tr class='" + (on ? "on" : "") + "'><td><span class='swatch' style='background:" + state.colors[l.id] +
      "'></span> " + escapeHtml(l.zh) + "</td><td class='num'>" + p.toFixed(3) + "</td></tr>";
  }
  return html + "</table>" + (s.truncated ? "<p>（句子过长，模型只读取了前一部分）</p>" : "");
}

function escapeHtml(t) {
  return t.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function sentenceNode(s) {
  const span = document.createElement("span");
  span.className = "sent";
  span.dataset.labels = s.labels.join(" ");
  span.dataset.index = s.index;
  const first = s.labels[0];
  span.style.background = first === "other" ? "transparent" : state.colors[first] + "33";
  span.style.borderBottom = first === "other" ? "none" : "2px solid " + state.colors[first];
  span.title = s.labels.map((id) => state.names[id] + "（" + id + "）" + (s.scores[id] || 0).toFixed(2)).join("、");
  span.appendChild(document.createTextNode(s.text));
  const marks = document.createElement("span");
  marks.className = "marks";
  for (const id of s.labels) {
    if (id === "other") continue;
    const m = document.createElement("span");
    m.className = "mark";
    m.style.background = state.colors[id];
    m.dataset.label = id;
    marks.appendChild(m);
  }
  span.appendChild(marks);
  span.addEventListener("mouseenter", () => { $("detail").innerHTML = scoresTable(s); });
  span.addEventListener("click", () => {
    document.querySelectorAll(".sent.selected").forEach((n) => n.classList.remove("selected"));
    span.classList.add("selected");
    $("detail").innerHTML = scoresTable(s);
  });
  return span;
}

function render(result, text) {
  state.result = result;
  state.filter = null;
  const doc = $("document");
  doc.textContent = "";
  let pos = 0;
  for (const s of result.sentences) {
    // With the original text, keep what lies between sentences (line breaks, spaces); else a space.
    doc.appendChild(document.createTextNode(text !== null ? text.slice(pos, s.start) : (s.index ? "\n" : "")));
    doc.appendChild(sentenceNode(s));
    pos = s.end;
  }
  $("sentence-count").textContent = "（" + result.sentences.length + " 句）";
  renderLegend();
  renderChart();
  $("result").hidden = false;
}

function renderLegend() {
  const legend = $("legend");
  legend.textContent = "";
  const counts = state.result.summary.counts;
  for (const l of state.labels) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.label = l.id;
    b.title = l.id + "：" + l.description;
    b.innerHTML = "<span class='swatch' style='background:" + state.colors[l.id] + "'></span>" +
      escapeHtml(l.zh) + " <b>" + (counts[l.id] || 0) + "</b>";
    if (!counts[l.id]) b.classList.add("off");
    b.addEventListener("click", () => applyFilter(state.filter === l.id ? null : l.id));
    legend.appendChild(b);
  }
}

function applyFilter(labelId) {
  state.filter = labelId;
  document.querySelectorAll("#legend button").forEach((b) => b.classList.toggle("active", b.dataset.label === labelId));
  document.querySelectorAll(".sent").forEach((n) => {
    const show = !labelId || n.dataset.labels.split(" ").includes(labelId);
    n.classList.toggle("dim", !show);
  });
}

function renderChart() {
  const counts = state.result.summary.counts;
  const share = state.result.summary.share;
  const rows = state.labels.filter((l) => counts[l.id]).sort((a, b) => counts[b.id] - counts[a.id]);
  const ns = "http://www.w3.org/2000/svg";
  const barH = 22, labelW = 120, width = 420, maxW = width - labelW - 90;
  const max = Math.max(1, ...rows.map((l) => counts[l.id]));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + (rows.length * barH + 10));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "各类别句子数量与占比");
  rows.forEach((l, i) => {
    const y = i * barH + 5;
    const name = document.createElementNS(ns, "text");
    name.setAttribute("x", labelW - 6); name.setAttribute("y", y + 15); name.setAttribute("text-anchor", "end");
    name.textContent = l.zh;
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", labelW); rect.setAttribute("y", y + 3);
    rect.setAttribute("width", Math.max(2, (counts[l.id] / max) * maxW)); rect.setAttribute("height", barH - 6);
    rect.setAttribute("fill", state.colors[l.id]);
    rect.setAttribute("class", "bar"); rect.dataset.label = l.id; rect.dataset.count = counts[l.id];
    const title = document.createElementNS(ns, "title");
    title.textContent = l.id + "：" + counts[l.id] + " 句，" + (share[l.id] * 100).toFixed(1) + "%";
    rect.appendChild(title);
    const value = document.createElementNS(ns, "text");
    value.setAttribute("x", labelW + Math.max(2, (counts[l.id] / max) * maxW) + 6); value.setAttribute("y", y + 15);
    value.textContent = counts[l.id] + "（" + (share[l.id] * 100).toFixed(0) + "%）";
    svg.append(name, rect, value);
  });
  $("chart").textContent = "";
  $("chart").appendChild(svg);
}

function csvCell(v) { return '"' + String(v).replace(/"/g, '""') + '"'; }

function toCsv() {
  const ids = state.labels.map((l) => l.id);
  const lines = [["index", "start", "end", "text", "labels", ...ids].map(csvCell).join(",")];
  for (const s of state.result.sentences) {
    lines.push([s.index, s.start, s.end, s.text, s.labels.join(";"), ...ids.map((id) => (s.scores[id] || 0).toFixed(4))]
      .map(csvCell).join(","));
  }
  return lines.join("\n") + "\n";
}

async function copyCsv() {
  const csv = toCsv();
  try { await navigator.clipboard.writeText(csv); showMessage("已复制 " + state.result.sentences.length + " 句为 CSV。", "info"); }
  catch (e) {
    const ta = document.createElement("textarea"); ta.value = csv; document.body.appendChild(ta); ta.select();
    document.execCommand("copy"); ta.remove(); showMessage("已复制为 CSV。", "info");
  }
}

function downloadJson() {
  const blob = new Blob([JSON.stringify(state.result, null, 2)], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = (state.result.id || "policytag") + ".json";
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

$("tag-text").addEventListener("click", tagText);
$("tag-file").addEventListener("click", tagFile);
$("copy-csv").addEventListener("click", copyCsv);
$("download-json").addEventListener("click", downloadJson);
$("key-save").addEventListener("click", () => { state.apiKey = $("api-key").value.trim() || null; loadMeta(); });
loadMeta();
