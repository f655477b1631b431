// The one place the app touches kizuna's quiz API (Engine.quizStart / quizAnswer /
// quizQuestion / quizResult). Everything else imports from here.
import { Engine } from "kizuna";

export { Engine };

/** @returns {{engine: Engine, config: object}} the compiled engine and the parsed config. Throws KizunaError (or SyntaxError). */
export function createEngine(configText) {
  const config = JSON.parse(configText);
  return { engine: new Engine(configText), config };
}

export const start = (engine, quizId) => engine.quizStart(quizId);
export const question = (engine, state) => engine.quizQuestion(state);
export const answer = (engine, state, questionId, value) => engine.quizAnswer(state, questionId, value);
export const result = (engine, state, context) => engine.quizResult(state, context);

/**
 * The question at position `index` of the state's path (0-based; `path.length` or more: the
 * current question, null when done). An answered question is read from the state that stopped
 * there (the path's prefix, which the engine accepts as a state it produced).
 */
export function questionAt(engine, state, index) {
  if (index >= state.path.length) return engine.quizQuestion(state);
  const path = state.path.slice(0, index);
  const answers = Object.fromEntries(path.map((id) => [id, state.answers[id]]));
  return engine.quizQuestion({ ...state, answers, path, current: state.path[index], done: false });
}

/** Whether `s` looks like a QuizState of `quizId` (e.g. read back from localStorage). */
export function isState(s, quizId) {
  return !!s && s.version === 1 && s.quiz === quizId && Array.isArray(s.path) && typeof s.answers === "object" && s.answers !== null;
}
