// Its own chunk (assets/liff-mock-*.js): loaded only outside the LINE app.
export { LiffMockPlugin } from "@line/liff-mock";
