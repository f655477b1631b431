// A Japanese title for each of the engine's error codes, shown before its (English) message in
// the playground, where marketers read them. The codes are the contract's (schema/); the npm
// test of the app checks that every one has a title here.
export const CODE_TITLE = {
  invalid_json: "JSON の書き方の誤り",
  unknown_field: "不明な項目名（綴りを確認）",
  missing_field: "必須の項目がない",
  invalid_value: "値の型・内容が不正",
  unsupported_version: "対応していない version",
  duplicate_id: "id の重複",
  duplicate_key: "同じキーが二度ある",
  unknown_operator: "不明な演算子",
  wrong_arity: "引数の数が違う",
  invalid_argument: "引数が不正",
  unknown_segment: "存在しないセグメント",
  segment_cycle: "セグメントの参照が循環",
  invalid_timestamp: "日時の書き方が不正（RFC 3339）",
  invalid_duration: "期間の書き方が不正（ISO 8601: P30D など）",
  evaluation_failed: "条件の評価に失敗",
  template_syntax: "テンプレートの構文の誤り",
  unknown_filter: "不明なフィルター",
  unknown_tag: "不明なタグ",
  template_render: "テンプレートの表示に失敗",
  limit_exceeded: "上限を超えた",
  unknown_menu: "存在しないリッチメニュー",
  unknown_question: "存在しない質問",
  unreachable_question: "たどり着けない質問",
  question_cycle: "質問の順序が循環",
  unknown_result: "存在しない診断結果",
  unknown_content: "存在しないコンテンツ",
  unknown_dimension: "存在しない採点軸",
  dimension_without_result: "採点軸に対応する結果がない",
  no_choices: "選択肢がない",
  unknown_quiz: "存在しない診断",
  question_not_current: "今の質問ではない",
  unknown_choice: "存在しない選択肢",
  answer_required: "回答が必要",
  invalid_answer: "回答の形が不正",
  stale_quiz_state: "診断の途中状態が古い（設定が変わった）",
  quiz_not_finished: "診断がまだ終わっていない",
  unknown_context_field: "コンテキストにない項目",
  unreachable: "使われることのない設定",
  single_member_group: "メンバーが1つだけのグループ（名前の誤字？）",
  unmeasured_arm: "集計ユニットのないテストパターン",
  shared_aggregation_unit: "他のコンテンツと共有している集計ユニット",
  timestamp_as_text: "日時を文字列として比較（before / after を使う）",
};

/** `[code] タイトル: ` for a problem, or `[code] ` for a code without one (a future engine's). */
export const codeLabel = (code) => `[${code}] ${titled(code)}`;

/** `タイトル: ` for a code with a title (not one of the object's inherited names), else "". */
export const titled = (code) => (Object.hasOwn(CODE_TITLE, code) ? `${CODE_TITLE[code]}: ` : "");
