/**
 * A LINE message object as a decision carries it, checked against LINE's shapes
 * (src/line_shape.rs) when the config compiled and once rendered. Only `type` and the members
 * LINE requires are typed; the others read as `unknown`: narrow on `type` first. Each type is
 * assignable to @line/bot-sdk's `messagingApi.Message` as it is
 * (`client.replyMessage({ replyToken, messages: decision.messages })`).
 */
export type LineMessage =
  | LineTextMessage
  | LineTextMessageV2
  | LineStickerMessage
  | LineImageMessage
  | LineVideoMessage
  | LineAudioMessage
  | LineLocationMessage
  | LineImagemapMessage
  | LineTemplateMessage
  | LineFlexMessage
  | LineCouponMessage;
/** Any other member of a LINE object: read it as `unknown`. */
export interface LineObject {
  [key: string]: unknown;
}
export interface LineTextMessage extends LineObject { type: "text"; text: string }
export interface LineTextMessageV2 extends LineObject { type: "textV2"; text: string }
export interface LineStickerMessage extends LineObject { type: "sticker"; packageId: string; stickerId: string }
export interface LineImageMessage extends LineObject { type: "image"; originalContentUrl: string; previewImageUrl: string }
export interface LineVideoMessage extends LineObject { type: "video"; originalContentUrl: string; previewImageUrl: string }
export interface LineAudioMessage extends LineObject { type: "audio"; originalContentUrl: string; duration: number }
export interface LineLocationMessage extends LineObject { type: "location"; title: string; address: string; latitude: number; longitude: number }
export interface LineCouponMessage extends LineObject { type: "coupon"; couponId: string }
export interface LineImagemapMessage extends LineObject {
  type: "imagemap";
  baseUrl: string;
  altText: string;
  baseSize: { width: number; height: number };
  actions: LineImagemapAction[];
}
export interface LineImagemapArea { x: number; y: number; width: number; height: number }
export type LineImagemapAction =
  | (LineObject & { type: "uri"; linkUri: string; area: LineImagemapArea })
  | (LineObject & { type: "message"; text: string; area: LineImagemapArea })
  | (LineObject & { type: "clipboard"; clipboardText: string; area: LineImagemapArea });
export interface LineTemplateMessage extends LineObject { type: "template"; altText: string; template: LineTemplate }
export type LineTemplate =
  | (LineObject & { type: "buttons"; text: string; actions: LineAction[] })
  | (LineObject & { type: "confirm"; text: string; actions: LineAction[] })
  | (LineObject & { type: "carousel"; columns: (LineObject & { text: string; actions: LineAction[] })[] })
  | (LineObject & { type: "image_carousel"; columns: (LineObject & { imageUrl: string; action: LineAction })[] });
/** An action of a message (a template's, a quick reply button's, a flex component's). */
export type LineAction =
  | (LineObject & { type: "postback"; data: string })
  | (LineObject & { type: "message"; text: string })
  | (LineObject & { type: "uri"; uri: string })
  | (LineObject & { type: "datetimepicker"; data: string; mode: "date" | "time" | "datetime" })
  | (LineObject & { type: "camera" })
  | (LineObject & { type: "cameraRoll" })
  | (LineObject & { type: "location" })
  | (LineObject & { type: "clipboard"; clipboardText: string });
export interface LineFlexMessage extends LineObject { type: "flex"; altText: string; contents: LineFlexBubble | LineFlexCarousel }
export interface LineFlexBubble extends LineObject { type: "bubble" }
export interface LineFlexCarousel extends LineObject { type: "carousel"; contents: LineFlexBubble[] }
