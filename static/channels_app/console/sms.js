// How long an SMS reply is, in characters and in the parts the provider bills. Pure.

// The GSM 03.38 basic set and its extension (which costs two characters each).
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";

/** "42 characters · 1 SMS" (GSM-7: 160, or 153 per part; otherwise Unicode: 70, or 67). */
export function smsSegments(text) {
  let gsmLength = 0;
  let gsm = true;
  for (const char of text) {
    if (GSM_BASIC.includes(char)) gsmLength += 1;
    else if (GSM_EXTENDED.includes(char)) gsmLength += 2;
    else gsm = false;
  }
  const length = gsm ? gsmLength : [...text].length;
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const parts = length === 0 ? 0 : length <= single ? 1 : Math.ceil(length / part);
  const kind = gsm ? "" : " (Unicode)";
  return `${length} characters · ${parts} SMS${kind}`;
}
