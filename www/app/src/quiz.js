// The LIFF skin-type quiz: one question per screen, resumable (the QuizState lives in
// localStorage), the result rendered by kizuna, the decision delivered once through kizuna/sync.
import configText from "virtual:kizuna-config";
import { SyncClient, LocalStorageStore, MemoryStore } from "kizuna/sync";
import { createEngine, start, answer, questionAt, result, isState } from "./kizuna-quiz.js";
import { initLiff, idTokenExpiring, relogin } from "./liff.js";
import { settings } from "./settings.js";
import { h } from "./dom.js";
import { renderMessage } from "./messages.js";

/**
 * The quiz asked: `?quiz=`. Opened through a LIFF URL (https://liff.line.me/{liffId}?quiz=…)
 * the page is first loaded as the endpoint URL with the URL's path and query in `liff.state`,
 * which liff.init then restores (a reload). The first question is drawn before that, so the
 * query is read from liff.state too, the way the SDK combines them (the endpoint's own query
 * first), rather than falling back to the default quiz (LINE's "bad example": reading the query
 * before liff.init).
 */
function quizParam() {
  const query = new URLSearchParams(location.search);
  const state = query.get("liff.state");
  let fromState = null;
  try {
    if (state) fromState = new URL(state.replace(/^\/?/, "/"), location.origin).searchParams.get("quiz");
  } catch {
    // not a path and query: ignored, as the SDK would fail on it
  }
  return query.get("quiz") || fromState || "skin_type";
}
const QUIZ = quizParam();
const KEY = `kizuna-quiz:state:${QUIZ}`;
const app = document.getElementById("app");
const live = document.getElementById("live");
const syncStatus = document.getElementById("sync-status");
const syncAction = document.getElementById("sync-action");
const storageNotice = document.getElementById("storage-notice");
const liffNotice = document.getElementById("liff-notice");

// ---- storage: localStorage may be blocked (access throws) or full (setItem throws) ----------
// Either way the quiz carries on in memory and says so once, visibly.
function storageProblem(e) {
  if (!storageNotice.hidden) return;
  storageNotice.textContent = `この端末に回答を保存できません（${e?.name === "QuotaExceededError" ? "保存領域がいっぱいです" : "保存が無効になっています"}）。このまま続けられますが、ページを閉じると回答は失われます。`;
  storageNotice.hidden = false;
}
function storage() {
  try {
    return localStorage; // the getter throws (SecurityError) when storage is blocked
  } catch (e) {
    storageProblem(e);
    return null;
  }
}

performance.mark("kizuna:modules"); // every import evaluated: the .wasm is instantiated
const liffReady = initLiff().catch((error) => ({ error }));
/**
 * The LINE user of this visit (the ID token's claims), or null: LINE Login failed or was
 * declined, or there is no ID token (the LIFF app's openid scope is off; OpenChat).
 */
const claimsOf = (lf) => (lf.error ? null : lf.liff.getDecodedIDToken() ?? null);

// ---- LINE Login failed or declined: said at once, not at the end ----------------------------
// The quiz can still be answered and its result is shown, but it is not saved (not sent); the
// notice stays on every screen until a login succeeds. liff.init removed the error from the URL
// (liff.js), so 「LINE でログイン」 is a reload: a new liff.init, which starts LINE Login again
// outside LINE (inside LINE the login is part of liff.init).
function notSavedNotice(text, retry) {
  liffNotice.replaceChildren(
    h("p.error", { role: "alert" }, text),
    retry ? h("button.secondary", { type: "button", onclick: retry }, "LINE でログイン") : null);
  liffNotice.hidden = false;
}
liffReady.then((lf) => {
  if (lf.error) {
    console.warn("kizuna-quiz: LIFF init or LINE Login failed:", lf.error); // the details, for whoever looks
    const cause = /access_denied/.test(lf.error?.message) ? "LINE ログインがキャンセルされました。" : "LINE との接続に失敗しました。";
    notSavedNotice(`${cause}このまま診断できますが、結果は保存されません。保存するには LINE でログインしてください。`, () => location.reload());
  } else if (!claimsOf(lf)?.sub) {
    // logged in without an ID token: another login would not help (liff.js tried one outside LINE)
    console.warn("kizuna-quiz: no LIFF ID token: is the openid scope on for this LIFF app? (OpenChat gives none)");
    notSavedNotice("LINE のユーザー情報を受け取れないため、診断結果は保存されません。診断と結果の表示はこのままできます。");
  }
});
const { engine, config } = createEngine(configText);
const quizDef = config.quizzes?.find((q) => q.id === QUIZ);
// The page says which quiz it is (index.html names the example's until the config is read).
if (quizDef?.title) {
  document.title = quizDef.title;
  document.querySelector("h1")?.replaceChildren(quizDef.title);
}
performance.mark("kizuna:engine"); // config compiled

const makeSync = (store) => new SyncClient({
      endpoint: `${settings.backend}/decisions`,
      store,
      // The ID token, never the profile: the backend verifies it with LINE and reads the user from it.
      // An ID token lasts 1 h and neither liff.init nor a reload refreshes it: an expired one is
      // not sent (the backend would answer 401 and the decision be dead-lettered). Outside LINE
      // a new LINE Login replaces it (a redirect: the outbox is sent when the page is back);
      // inside LINE the throw is a retryable failure, and the user is asked to reopen the page.
      getHeaders: async () => {
        const { liff, error, inClient } = await liffReady;
        if (error) throw error;
        const token = liff.getIDToken();
        if (!token) throw new Error("no LIFF ID token (is the openid scope on?)"); // retried later
        if (idTokenExpiring(liff)) {
          if (!inClient && relogin(liff)) {
            syncStatus.className = "muted";
            syncStatus.textContent = "LINE のログインを更新しています…";
            await new Promise(() => {}); // redirecting to LINE Login
          }
          tokenExpired = true;
          expiredNotice(inClient); // at once, not when the flush gives up
          throw new Error("the LIFF ID token has expired");
        }
        tokenExpired = false;
        return { authorization: `Bearer ${token}` };
      },
      retryStatuses: [401], // an expired or not yet valid token: retried, not dead-lettered
      source: { runtime: "browser", app: "liff-quiz" },
      baseDelayMs: 400,
      maxDelayMs: 30_000,
    });
/** Says the result waits for a valid ID token: inside LINE, reopening the page gets one. */
function expiredNotice(inClient = true) {
  syncStatus.className = "error";
  syncStatus.textContent = inClient
    ? "LINE のログインの有効期限が切れたため、診断結果を送信できません。このページを LINE で開き直してください（結果は保存されていて、開き直すと送信されます）。"
    // outside LINE a new login was tried just now and its token still looks expired: the clock
    : "LINE のログインの有効期限を確認できないため、診断結果を送信できません。端末の日時の設定を確認してから、数分後にページを再読み込みしてください（結果は保存されています）。";
}
let tokenExpired = false;
// The outbox in localStorage (it survives a reload); without storage, in memory for this visit.
const durable = Boolean(storage());
let sync = settings.backend ? makeSync(durable ? new LocalStorageStore(localStorage, "kizuna-quiz:") : new MemoryStore()) : null;
// Decisions dead-lettered for 401/403 (an expired token, before the check above; a backend
// misconfigured for a while) are sent again on this visit, with a fresh token.
const requeued = sync
  ? sync.deadLetters()
      .then((dead) => dead.filter((d) => d.status === 401 || d.status === 403).map((d) => d.decisionId))
      .then((ids) => (ids.length ? sync.requeueDeadLetters(ids) : 0))
      .catch(() => 0)
  : Promise.resolve(0);

// ---- the saved record ------------------------------------------------------------------------
// {run: an id for this run of the quiz (new at start, at restart and when an answer of a
//  completed run changes; one completion per run), line: the run's history line (new at start
//  and restart only: a run started by a changed answer keeps its history entries),
//  last?: the completion a changed answer left ({run, state, completedAt, decision, shown,
//  enqueued, sent}): a run that completes with the same answers is that completion again,
//  restored rather than frozen anew (same run, same decision, nothing sent twice); dropped once
//  a run with other answers has its result shown (a new completion), and at restart; a
//  completion never shown does not displace a shown one,
//  state: QuizState, view?: index into state.path of the answered question on screen (absent:
//  the current question), completedAt?: when the result was first shown (the context's `now`),
//  decision?: the completion's decision, frozen when the result is first computed,
//  shown?: true once its result was on screen (in some tab): a completion is sent only then, so
//  one left before its result was drawn (back while computing) is never sent unless its answers
//  come back to it,
//  enqueued?: its decisionId once it is in the outbox (from then on never enqueued again),
//  sent?: true once liff.sendMessages sent the summary to the chat}
// The decision is kept rather than recomputed: its decisionId hashes the config too, so a
// config redeploy (or another user id) would otherwise give the same completion a second one.
//
// Every tab of the origin shares the record (two tabs, two windows): a tab never saves over
// what another tab wrote since it read it, it takes that record and shows it instead.
let seen = null; // the stored text this tab's record was last read from or written as
function read() {
  try {
    return storage()?.getItem(KEY) ?? null;
  } catch {
    return null;
  }
}
/** The record in `text`, or null when absent, unreadable or not valid for this quiz and config. */
function parse(text) {
  try {
    const r = JSON.parse(text ?? "null");
    if (!r || !isState(r.state, QUIZ)) return null;
    questionAt(engine, r.state, r.state.path.length); // the engine checks the saved state
    if (r.view !== undefined && !(r.view >= 0 && r.view < r.state.path.length)) r.view = undefined;
    r.run ??= newRun(); // saved by an older version
    r.line ??= r.run;
    return r;
  } catch {
    return null; // unreadable, stale_quiz_state (the quiz changed), unsupported_version …: start again
  }
}
const newRun = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
let record = parse((seen = read()));
function save() {
  const text = JSON.stringify(record);
  try {
    const s = storage();
    if (s) {
      s.setItem(KEY, text);
      seen = text;
    }
  } catch (e) {
    storageProblem(e); // full: go on in memory ("次へ" must still work)
  }
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
let moved = false; // the next screen says that it follows another tab
/**
 * Takes the stored record when another tab wrote it since this tab read it (this tab's own is
 * never saved over it) and shows it if this tab's screen changes. Returns whether it re-rendered:
 * an action on the screen that was replaced is dropped (it was made on what the user saw before).
 * The screen is per tab: while the run and its answers are the same, another tab's back or
 * forward (`view`), send (`sent`) or enqueue leaves this tab where it is, its history entry
 * untouched; only what changed on its own screen is redrawn (the result of a completion another
 * tab froze first, the send button once sent).
 */
function adopt() {
  const text = read();
  if (text === seen) return false;
  const r = parse(text);
  if (!r) return false; // removed or unreadable: this tab's record stays and is saved again
  seen = text;
  const old = record;
  record = r;
  if (old && r.run === old.run && same(r.state, old.state)) {
    r.view = old.view;
    const onResult = r.view === undefined && r.state.done;
    if (!onResult || (r.completedAt === old.completedAt && r.decision?.decisionId === old.decision?.decisionId)) {
      if (onResult && r.sent && !old.sent) sentButton();
      return false;
    }
  }
  moved = true;
  render(); // this tab's history entry now names the screen shown
  return true;
}
/**
 * The result's send button once the summary is in the chat (sent here or in another tab).
 * aria-disabled, not disabled: a disabled button loses the focus (to <body>); this one keeps it
 * and is read as 送信しました, dimmed (its click does nothing once `sent`).
 */
function sentButton(button = app.querySelector("button[data-send]")) {
  if (!button) return;
  button.textContent = "送信しました";
  button.setAttribute("aria-disabled", "true");
}
addEventListener("storage", (e) => {
  if (e.key === KEY || e.key === null) adopt();
});
/** A step that ends after an await: applied to the freshest record, if it is still run `run`. */
function patch(run, change) {
  adopt();
  if (record?.run !== run) return false;
  change(record);
  save();
  return true;
}
/** The completion of run `run` in the record: its own, or the one a changed answer left (last). */
const completionOf = (run) => (record?.run === run ? record : record?.last?.run === run ? record.last : null);
/** As patch(), for a note on run `run`'s completion, also once a changed answer left it (last). */
function patchCompletion(run, change) {
  adopt();
  const c = completionOf(run);
  if (!c) return false;
  change(c);
  save();
  return true;
}

function show(...nodes) {
  app.replaceChildren(...nodes);
  app.removeAttribute("aria-busy");
}

/** An error screen: the message takes the focus, so a screen reader starts there. */
function showError(text) {
  const message = h("p.error", { role: "alert", tabIndex: -1 }, text);
  show(message);
  message.focus();
}

function problem(e) {
  return e?.message || String(e);
}

/** Why liff.sendMessages failed, in Japanese (the SDK's English message goes to the console). */
function sendProblem(e) {
  console.warn("kizuna-quiz: liff.sendMessages failed:", e);
  const code = String(e?.code ?? "");
  if (code === "FORBIDDEN" || code === "403") return "トークへの送信が許可されていません。";
  if (code === "UNAUTHORIZED" || code === "401") return "LINE のログインの有効期限が切れています。LINE で開き直してください。";
  return "時間をおいて、もう一度お試しください。";
}

// ---- questions -----------------------------------------------------------------------------
let firstRendered = false;

/** Says once, on the screen and to screen readers, that the screen follows another tab. */
function movedNote() {
  if (!moved) return [null, ""];
  moved = false;
  const text = "別のタブでの回答に合わせて表示を更新しました。";
  return [h("p.muted", null, text), `${text} `];
}

function showQuestion(token) {
  const index = record.view ?? record.state.path.length;
  const q = questionAt(engine, record.state, index);
  if (!q) return showResult(token);
  const [note, noteText] = movedNote();
  const prior = record.state.answers?.[q.id];
  // an id reference list splits on spaces: a question id with one must not break the labels
  const headingId = `q-${q.id.replace(/\s/g, "_")}`;
  const hintId = `${headingId}-hint`;
  const errorId = `${headingId}-error`;
  const error = h("p.error", { role: "alert", id: errorId });
  // the hint and the validation message are read with the control
  const described = q.kind === "multiple" ? `${hintId} ${errorId}` : errorId;
  let control;
  if (q.kind === "text") {
    control = h("textarea.free", { name: "answer", "aria-labelledby": headingId, "aria-describedby": described, maxLength: 500, value: typeof prior === "string" ? prior : "" });
  } else {
    const type = q.kind === "multiple" ? "checkbox" : "radio";
    const chosen = new Set(Array.isArray(prior) ? prior : prior === undefined ? [] : [prior]);
    control = h("fieldset", { "aria-labelledby": headingId, "aria-describedby": described },
      q.kind === "multiple" ? h("p.hint", { id: hintId }, "あてはまるものをすべて選んでください") : null,
      q.choices.map((c) => h("label.choice", null,
        h("input", { type, name: "answer", value: c.id, checked: chosen.has(c.id) }),
        h("span", null, c.label))));
  }
  // the second click of a double click lands on the next screen's button: ignored (it would
  // skip a question that already has an answer selected)
  const next = h("button.primary", { type: "submit", onclick: (ev) => { if (ev.detail > 1) ev.preventDefault(); } }, q.number >= q.total ? "結果を見る" : "次へ");
  const form = h("form", { novalidate: true, onsubmit: onSubmit, onchange: update, oninput: update },
    note,
    q.number === 1 && quizDef?.description ? h("p.lead", null, quizDef.description) : null,
    h("div.progress", null,
      h("span", null, `質問 ${q.number} / ${q.total}`),
      h("progress", { max: q.total, value: q.number - 1, "aria-label": "進捗" })),
    // （任意） unless the question's text says it already
    h("h2", { id: headingId, tabIndex: -1 }, q.text, q.optional && !q.text.includes("任意") ? h("span.muted", null, "（任意）") : null),
    control,
    error,
    h("div.actions", null,
      index > 0 ? h("button.secondary", { type: "button", onclick: onBack }, "戻る") : null,
      next));

  function value() {
    if (q.kind === "text") return form.elements.answer.value.trim();
    const checked = [...form.querySelectorAll("input[name=answer]:checked")].map((i) => i.value);
    return q.kind === "multiple" ? checked : checked[0] ?? "";
  }
  const empty = (v) => v === "" || (Array.isArray(v) && v.length === 0);
  function update() {
    if (!empty(value())) {
      error.textContent = "";
      control.removeAttribute("aria-invalid");
    }
  }
  function onSubmit(ev) {
    ev.preventDefault();
    if (adopt()) return; // another tab moved on: this answer was given to a screen now gone
    if (!q.optional && empty(value())) {
      error.textContent = q.kind === "text" ? "ご記入ください。" : "回答を選んでください。";
      control.setAttribute("aria-invalid", "true");
      return;
    }
    let state;
    try {
      // the same answer again leaves the state as it is; a new one re-branches (later answers
      // on the new branch are kept and shown again, pre-selected)
      state = answer(engine, record.state, q.id, value());
    } catch (e) {
      error.textContent = problem(e);
      return;
    }
    // A changed answer of a completed run (back from the result) starts a new run, without the
    // completion, decision and sends; the completion is kept as `last`: whether the new run is a
    // new diagnosis is decided when it completes (see render).
    if (record.completedAt && !same(state, record.state)) {
      const { run, state: done, completedAt, decision, shown, enqueued, sent, last } = record;
      // (one never shown does not displace a shown one: that is the last the user saw)
      const left = shown || !last?.shown ? { run, state: done, completedAt, decision, shown, enqueued, sent } : last;
      record = { run: newRun(), line: record.line, state, last: left };
    }
    record.state = state;
    const next = index + 1;
    record.view = next < state.path.length ? next : undefined;
    save();
    render("push");
  }
  function onBack() {
    if (adopt()) return;
    // the entry behind this one is the previous question: the same step as the browser's back
    if (depth > 0 && history.state?.from === index - 1 && history.state.line === record.line) return history.back();
    record.view = index - 1; // none (a resumed visit, another tab's move): in place
    save();
    render();
  }
  show(form);
  live.textContent = `${noteText}質問 ${q.number} / ${q.total}`;
  form.querySelector("h2").focus();
  if (!firstRendered) {
    firstRendered = true;
    performance.mark("kizuna:first-question");
  }
}

// ---- result --------------------------------------------------------------------------------
// Tabs share the record but not memory, and two can finish the same run at the same moment,
// each with its own completedAt (so its own decision), or both enqueue it. localStorage cannot
// tell which came first (each tab reads its own copy, updated later, and a write can undo
// another's), an IndexedDB transaction can. The quiz's entry there, {run, state, completedAt,
// decision, enqueued?}, decides: the first completion stored for a run is the one every tab
// shows, and the tab that marks it enqueued is the one that puts it in the outbox.
/** Runs `change(entry)` in one transaction; stores what it returns if that is a new entry. */
function completion(change) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("kizuna-quiz", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("completions");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction("completions", "readwrite");
      const store = tx.objectStore("completions");
      let entry;
      store.get(QUIZ).onsuccess = (e) => {
        entry = change(e.target.result);
        if (entry !== e.target.result) store.put(entry, QUIZ); // one entry a quiz: the latest run's
      };
      tx.oncomplete = () => resolve(entry);
      tx.onabort = () => reject(tx.error);
      db.close(); // once the transaction is done
    };
  });
}
/** Whether this tab puts run `run`'s decision in the outbox; if so, marks it as enqueued. */
async function takeEnqueue(run, decisionId) {
  let mine = true; // also without IndexedDB, or without an entry for the run (an older version's)
  await completion((e) => {
    if (e?.run !== run) return e;
    if (e.enqueued) mine = false;
    return mine ? { ...e, enqueued: decisionId } : e;
  }).catch(() => {});
  return mine;
}

// The completion is frozen whatever is on screen by then (the browser's back, another tab's
// update), so every tab and a reload show the same one; it is sent once its result is drawn
// (here or in another tab). One whose result was never drawn (back while computing) is not
// sent: going on with the same answers draws it and sends it then; other answers make a new
// completion, and it is dropped.
async function showResult(token) {
  show(h("p.muted", null, "結果を計算しています…"));
  app.setAttribute("aria-busy", "true");
  const run = record.run;
  const lf = await liffReady;
  const shown = () => token === renders; // no later render (another screen) came meanwhile
  if (record.run !== run) return; // started over (here or in another tab): not this completion
  const claims = claimsOf(lf);
  // Without a LINE user (see notSavedNotice) the result is computed for the screen with a
  // stand-in user id, and neither frozen nor sent: a later visit that is logged in freezes and
  // sends this completion (its completedAt is saved).
  const saving = Boolean(claims?.sub);
  // Two contexts of one completion. What is saved and sent is computed from the user id alone:
  // LINE asks apps not to send profile data decoded in the browser (the ID token's name) to a
  // server, and the backend recomputes with the profile it reads itself (README). Only the
  // screen greets the user by name. The display name is no input of the decisionId (the engine
  // hashes config, user id, now, segments, rich menu, chosen content and errors), so the screen's
  // context gives the same one, unless a config's segment reads user.displayName. The same
  // completion always gives the same contexts, hence the same decisionId after a reload.
  const context = (user) => ({ version: 1, now: record.completedAt, user });
  let outcome;
  try {
    if (saving && !record.decision && !record.enqueued) {
      // frozen: a reload, and every other tab, shows and sends this one
      const decision = result(engine, record.state, context({ userId: claims.sub })).decision;
      const mine = { run, state: record.state, completedAt: record.completedAt, decision };
      const first = await completion((e) => (e?.run === run ? e : mine)).catch(() => mine); // without IndexedDB: this tab's
      // (the view is left as it is: the screen may have moved on meanwhile)
      if (!patch(run, (rec) => Object.assign(rec, { state: first.state, completedAt: first.completedAt, decision: first.decision }))) return;
    }
    // on screen (another tab's completion, if it froze first)
    outcome = result(engine, record.state, context({ userId: claims?.sub ?? NO_USER, displayName: claims?.name }));
  } catch (e) {
    console.error("kizuna-quiz: quizResult failed:", e); // the engine's (English) details
    if (shown()) showError("結果を計算できませんでした。時間をおいて、もう一度お試しください。");
    return;
  }
  // (frozen by this visit or an earlier one with a LINE user; an older version's record may be
  // enqueued without its decision: never enqueued again)
  const decision = record.decision ?? null;
  // A product or the description that failed to render is left out of the result (the
  // engine's English details to the console; the rest of the result stands).
  if (outcome.errors?.length) console.warn("kizuna-quiz: parts of the result not rendered:", outcome.errors);
  if (!shown()) return;
  const r = outcome.result;
  const decisionId = record.enqueued ?? decision?.decisionId; // none: not saved
  const products = (r.contents || []).map((c) => h("li", { "data-content": c.id }, (c.messages || []).map(renderMessage)));
  // to the chat, posted as the user: the type alone (the description is personalised, in the
  // third person: 「山田 花子さんは…」)
  const summary = `【${quizDef?.title ?? "診断"}】わたしは「${r.title}」タイプでした。`.slice(0, 4900);
  // a failed send is shown next to the button (role=alert announces it too), not only in #live
  // (offered only where liff.sendMessages can work: opened from a chat; see liff.js)
  const sendError = lf.canSend ? h("p.error.send-error", { role: "alert" }) : null;
  const sendBtn = lf.canSend && record.sent
    ? h("button.primary", { type: "button", "aria-disabled": "true" }, "送信しました") // not offered again after a reload
    : lf.canSend
    ? h("button.primary", { type: "button", "data-send": "", onclick: async () => {
        if (sendBtn.getAttribute("aria-disabled") === "true") return; // sending, or sent
        if (adopt() || record.sent) return; // another tab changed the record, or sent it already
        sendBtn.setAttribute("aria-disabled", "true"); // (keeps the focus, unlike disabled)
        sendError.textContent = "";
        try {
          await lf.liff.sendMessages([{ type: "text", text: summary }]);
          live.textContent = "トークに結果を送りました";
          sentButton(sendBtn);
          patchCompletion(run, (rec) => { rec.sent = true; });
        } catch (e) {
          sendError.textContent = `トークに送信できませんでした。${sendProblem(e)}`;
          sendBtn.removeAttribute("aria-disabled");
        }
      } }, "結果をトークに送る")
    : null;
  const [note, noteText] = movedNote();
  const section = h("section", { "aria-labelledby": "result-title", "data-result": r.id, "data-decision-id": decisionId },
    note,
    h("p", null, h("span.result-type", null, "診断結果")),
    h("h2", { id: "result-title", tabIndex: -1 }, `あなたは「${r.title}」タイプです`),
    r.description ? h("p.description", null, r.description) : null,
    products.length ? [h("h3", null, "おすすめの商品"), h("ul.products", null, products)] : null,
    h("div.actions", null, sendBtn, h("button.secondary", { type: "button", onclick: restart }, "もう一度診断する")),
    sendError);
  show(section);
  live.textContent = `${noteText}診断結果: ${r.title}`;
  section.querySelector("h2").focus();
  if (!record.shown || record.last) patch(run, (rec) => { rec.shown = true; delete rec.last; });
  if (!decisionId) {
    syncStatus.className = "error";
    syncStatus.textContent = "この診断結果は保存されていません。"; // (why: in #liff-notice)
    return;
  }
  await deliver(decision, run);
}
const NO_USER = `U${"0".repeat(32)}`; // the stand-in user of a result that is not saved

function restart() {
  if (adopt()) return; // another tab started over or went on: that is kept
  try {
    storage()?.removeItem(KEY);
  } catch {
    // overwritten by save() below, or kept in memory only
  }
  const run = newRun();
  record = { run, line: run, state: start(engine, QUIZ) };
  save();
  // the new run starts at the app's first entry (its back leaves the app, as on a first visit);
  // the old run's entries after it are neutralised (see onPopState). Until the browser gets
  // there nothing can be answered: an answer would be pushed after the old entries.
  if (depth > 0) {
    rewinding = "restart";
    const busy = h("p.muted", { tabIndex: -1 }, "読み込んでいます…");
    show(busy);
    app.setAttribute("aria-busy", "true");
    live.textContent = "読み込んでいます…"; // not the result's announcement any more
    busy.focus(); // the result's button that had it is gone
    history.go(-depth);
    setTimeout(() => {
      if (rewinding !== "restart") return;
      // slow to get there (or never): the new run starts on the current entry, with the depth that
      // entry has; a traversal that lands later is undone (see onPopState)
      rewinding = "late";
      if (isEntry(history.state)) depth = history.state.depth;
      render();
    }, 2000);
  } else {
    render();
  }
}

// ---- delivery: enqueue once per completed quiz, flush until sent -----------------------------
let retryTimer;
let lockWaits = 0; // flushes in a row that found another tab sending
async function deliver(decision, run) {
  if (!sync) {
    syncStatus.textContent = "送信先（backend）が設定されていないため、結果は送信されません。";
    return;
  }
  syncAction.replaceChildren();
  // once per completion, whatever a recomputation gives, and by one tab
  if (decision && !completionOf(run)?.enqueued && !inMemory.has(decision.decisionId)) {
    if (!(await takeEnqueue(run, decision.decisionId))) {
      // another tab enqueued it; its note in the record may have been written over by a tab
      // that had not seen it yet
      patchCompletion(run, (rec) => { rec.enqueued = decision.decisionId; });
      return flush(true);
    }
    try {
      await sync.enqueue(decision); // a repeat of the same decisionId is skipped by the outbox
      if (durable) {
        patchCompletion(run, (rec) => { rec.enqueued = decision.decisionId; });
      } else {
        inMemory.add(decision.decisionId);
      }
    } catch (e) {
      // the outbox could not store it (localStorage full): send it from memory during this
      // visit; record.enqueued stays unset, so the next visit tries the outbox again
      completion((c) => (c?.run === run ? { ...c, enqueued: undefined } : c)).catch(() => {});
      storageProblem(e);
      syncStatus.className = "error";
      syncStatus.textContent = `診断結果を端末に保存できませんでした（${problem(e)}）。`;
      syncAction.replaceChildren(h("button.secondary", { type: "button", onclick: () => deliver(decision, run) }, "もう一度送信する"));
      try {
        sync = makeSync(new MemoryStore());
        await sync.enqueue(decision);
        inMemory.add(decision.decisionId);
      } catch {
        return; // the retry button stays
      }
    }
  }
  await flush(true);
}
const inMemory = new Set(); // decisionIds enqueued only in a memory outbox (this visit)

// One flush at a time in this tab: a call while one runs waits for it, and a call for a decision
// just enqueued (`enqueued`) runs again after it: a flush that had already looked at the outbox
// would miss it, and the tab's own lock would put it off by a second.
let flushing, flushAgain;
function flush(enqueued) {
  if (flushing) return (flushAgain ||= enqueued === true), flushing;
  flushing = (async () => {
    do {
      flushAgain = false;
      await flushOnce();
    } while (flushAgain);
  })().finally(() => (flushing = undefined));
  return flushing;
}
async function flushOnce() {
  if (!sync) return;
  if (!claimsOf(await liffReady)?.sub) return; // no LINE user: an outbox left from before waits for a visit with one
  clearTimeout(retryTimer);
  await requeued;
  // One tab sends at a time: two tabs flushing one outbox post the same decisions twice. A tab
  // that finds another one sending looks again in a second: that flush may have listed the
  // outbox before this tab's decision went in. Then in 2, 4, 8 and 15 s, for a tab that holds
  // the lock long (its backend down, or the tab frozen in the background).
  if (!navigator.locks) return flushOutbox();
  await navigator.locks.request("kizuna-quiz:flush", { ifAvailable: true }, (lock) => {
    if (!lock) return void (retryTimer = setTimeout(flush, Math.min(15_000, 1_000 * 2 ** lockWaits++)));
    lockWaits = 0;
    return flushOutbox();
  });
}
async function flushOutbox() {
  // (a store that cannot be read counts as nothing to send, and says nothing either way)
  const pending = await sync.pending({ limit: 1 }).catch(() => undefined);
  if (pending === undefined) return;
  if (pending === 0) {
    // nothing to send; a result refused earlier (a dead letter) still says so after a reload,
    // and one sent (by another tab that held the lock, say) says that
    const id = record?.enqueued;
    const dead = id && (await sync.deadLetters().catch(() => undefined));
    if (!dead) return;
    if (dead.some((d) => d.decisionId === id)) {
      syncStatus.textContent = "診断結果を送信できませんでした。";
    } else if (id === record?.enqueued && syncStatus.textContent === "") {
      syncStatus.className = "muted";
      syncStatus.textContent = "診断結果を送信しました。";
    }
    return;
  }
  if (!tokenExpired) {
    // (a flush with an expired token sends nothing: the notice about it stays)
    syncStatus.textContent = "診断結果を送信しています…";
    syncStatus.className = "muted";
  }
  const r = await sync.flush();
  // `pending` is undefined when the store failed before the outbox could be counted: retry.
  const left = r.pending !== 0;
  if (left && tokenExpired) {
    expiredNotice((await liffReady).inClient);
    retryTimer = setTimeout(flush, 15_000);
  } else if (left) {
    syncStatus.textContent = "通信できませんでした。自動的に再送します。";
    retryTimer = setTimeout(flush, 15_000);
  } else if (r.deadLettered > 0) {
    syncStatus.textContent = "診断結果を送信できませんでした。";
  } else if (r.sent > 0) {
    syncStatus.textContent = "診断結果を送信しました。";
    syncAction.replaceChildren();
  }
}
addEventListener("online", () => flush());

// ---- browser history: one entry per screen --------------------------------------------------
// The browser's (Android's) back button steps back a question like 戻る, instead of leaving the
// app mid-quiz (inside LINE that closes the LIFF app). Each entry's state is {kizunaQuiz, run,
// index: the screen (an index into state.path; path.length is the current question or the
// result), depth: how many of the app's entries lie before it, from?: the index of the entry
// behind it, when it is the same run's (what 戻る steps back to)}. Answering pushes an entry; every
// other render (start-up, a reload, another tab's update, a popstate) replaces the current one,
// so a reload adds none. The first entry is the first screen shown on this visit: its back
// leaves the app, as before. Forward after back re-shows the next screen (its answer kept);
// answering differently drops the entries ahead (pushState does).
let depth = 0; // the current entry's
let rewinding = false; // もう一度診断する went back to the first entry ("restart": on the way; "late": it gave up waiting)
const isEntry = (s) => s?.kizunaQuiz === QUIZ && Number.isInteger(s.index) && Number.isInteger(s.depth);
if (isEntry(history.state)) depth = history.state.depth; // a reload: the same entry

/** Makes the current history entry name the screen on show ("replace") or adds one ("push"). */
function remember(how) {
  if (how === "none") return;
  const entry = { kizunaQuiz: QUIZ, line: record.line, index: record.view ?? record.state.path.length };
  const now = isEntry(history.state) && history.state.line === entry.line ? history.state : null;
  try {
    if (how === "push") history.pushState({ ...entry, depth: ++depth, from: now?.index }, "");
    else history.replaceState({ ...entry, depth, from: now?.index === entry.index ? now.from : undefined }, "");
  } catch {
    // history is unavailable (a sandboxed frame): the app's own 戻る still works
  }
}

function onPopState(e) {
  adopt(); // another tab's progress first: the entry is applied to the freshest record
  const s = e.state;
  if (!isEntry(s) || s.line !== record?.line) {
    // an entry of an earlier line (before もう一度診断する or another tab's restart): back goes to
    // the first entry (it takes the current screen, its back leaves the app); forward is undone
    const at = isEntry(s) ? s.depth : 0;
    if (rewinding === "late") {
      rewinding = false;
      // the restart's traversal, landing after the new run started where the tab was: back to
      // the tab's entry (one step back is the user's, handled below)
      if (at < depth - 1) return history.go(depth - at);
    }
    if (rewinding || at < depth) {
      if (at > 0 && !rewinding) {
        rewinding = true;
        return history.go(-at);
      }
      const restarted = rewinding === "restart";
      rewinding = false;
      depth = at;
      if (restarted) render(); // the new run's first question, now that it can be answered
      else if (record) remember("replace");
    } else if (at > depth) {
      history.go(depth - at);
    } else if (record) {
      remember("replace");
    }
    return;
  }
  rewinding = false;
  depth = s.depth;
  const view = viewOf(s);
  if (view === record.view) return remember("replace");
  record.view = view;
  save();
  render();
}
addEventListener("popstate", onPopState);
/** The record's view for entry `s` of its line (another tab may have re-branched since). */
function viewOf(s) {
  const index = Math.min(s.index, record.state.path.length);
  return index < record.state.path.length ? index : undefined;
}

let renders = 0; // counts renders: a result screen still computing gives way to a later one
function render(how = "replace") {
  const token = ++renders;
  remember(how);
  if (record.state.done && record.view === undefined) {
    if (!record.completedAt) {
      // Completed. With the answers of the last completion (changed after its result, then changed
      // back) it is that completion again; otherwise a new one, which replaces it once shown.
      const { last, line } = record;
      if (last && same(last.state, record.state)) record = { ...last, line };
      else record.completedAt = new Date().toISOString(); // fixed from now on: same decisionId after reloads
      save();
    }
    showResult(token);
  } else {
    showQuestion(token);
  }
}

try {
  if (!record) {
    const run = newRun();
    record = { run, line: run, state: start(engine, QUIZ) };
  } else if (isEntry(history.state) && history.state.line === record.line) {
    // a reload, or a traversal from another document, on one of this line's entries: that
    // entry's screen (this tab's own), not the saved one (another tab's, maybe)
    record.view = viewOf(history.state);
  }
  if (JSON.stringify(record) !== seen) save(); // new or normalised (the same text is not written back over another tab's)
  render();
} catch (e) {
  // e.g. ?quiz= names a quiz the config does not have
  showError(`診断を開始できませんでした: ${problem(e)}`);
}
// The outbox left over from an earlier visit, whatever is on screen (a completed run can be left
// on a question by the browser's back). A completion shown but not enqueued (the page closed in
// between) is enqueued here unless its result is on screen, which does that itself; the same for
// the completion a changed answer left (last).
const leftOver = [record?.view !== undefined && record, record?.last].filter((c) => c?.decision && c.shown && !c.enqueued);
for (const c of leftOver) deliver(c.decision, c.run);
if (!leftOver.length) flush();
