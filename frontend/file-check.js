/*
 * What the chosen file is, read from its own bytes and the browser's decode (not its name or declared type
 * alone): DICOM, a format neither side reads, an animated GIF, or an image, and with it how the image will be
 * sent (as it is, redrawn smaller, or converted to PNG).
 * Exposes window.CXR_FILE_CHECK; needs upload.js (the limits) loaded first.
 */
(() => {
  "use strict";

  const { MAX_SIDE, MAX_UPLOAD_BYTES } = window.CXR_UPLOAD;
  /** Formats some browsers cannot open and the service does not read: explained when this one cannot. */
  const FOREIGN_TYPES = ["image/webp", "image/avif", "image/heic"];
  /** Formats the browser decodes but the service does not read: converted to PNG before upload. Every
   * browser opens GIF: one it cannot open is damaged, sent as it is for the service to answer. */
  const CONVERT_TYPES = FOREIGN_TYPES.concat(["image/gif"]);

  /**
   * Decide how the file will be sent: as it is (DICOM, undecodable, small), redrawn smaller or converted to
   * PNG (GIF, WebP...), or not at all (a format neither side reads, an animated GIF).
   */
  async function inspectFile(file) {
    const head = new Uint8Array(await file.slice(0, 132).arrayBuffer());
    const isDicom = /\.(dcm|dicom)$/i.test(file.name || "") || asciiAt(head, 128, 4) === "DICM";
    if (isDicom) return { kind: "dicom" };
    const type = sniffType(head, file.type);
    let bitmap;
    try {
      bitmap = await createImageBitmap(file); // applies EXIF orientation, like the service does
    } catch (error) {
      // A phone's HEIC (or an AVIF, WebP) this browser cannot open: the service reads none of them either,
      // so say what to do instead of sending it for a 415.
      if (FOREIGN_TYPES.indexOf(type) >= 0) return { kind: "foreign" };
      return { kind: "opaque" }; // TIFF, text, damaged files: the service decides and explains
    }
    const width = bitmap.width;
    const height = bitmap.height;
    const longer = Math.max(width, height);
    const convert = CONVERT_TYPES.indexOf(type) >= 0;
    // The canvas would get an animation's first frame only, maybe not the film the person means: refused
    // when "Diagnosticar" is pressed, nothing sent; the preview still shows it moving.
    if (type === "image/gif" && gifFrameCount(new Uint8Array(await file.arrayBuffer()), 2) > 1) {
      bitmap.close();
      return { kind: "image", animated: true, width: width, height: height };
    }
    const scale = longer > MAX_SIDE ? MAX_SIDE / longer : 1;
    const redraw = scale < 1 || convert || file.size > MAX_UPLOAD_BYTES;
    return {
      kind: "image",
      bitmap: bitmap,
      width: width,
      height: height,
      redraw: redraw,
      convert: convert,
      newWidth: Math.max(1, Math.round(width * scale)),
      newHeight: Math.max(1, Math.round(height * scale)),
    };
  }

  function asciiAt(bytes, offset, length) {
    if (bytes.length < offset + length) return "";
    return String.fromCharCode.apply(null, Array.from(bytes.subarray(offset, offset + length)));
  }

  function sniffType(head, declared) {
    if (/^GIF8[79]a$/.test(asciiAt(head, 0, 6))) return "image/gif";
    if (asciiAt(head, 0, 4) === "RIFF" && asciiAt(head, 8, 4) === "WEBP") return "image/webp";
    if (asciiAt(head, 4, 4) === "ftyp" && /^avi[fs]$/.test(asciiAt(head, 8, 4))) return "image/avif";
    if (asciiAt(head, 4, 4) === "ftyp" && /^(heic|heix|mif1|msf1)$/.test(asciiAt(head, 8, 4))) return "image/heic";
    return declared || "";
  }

  /**
   * How many images (frames) a GIF holds, counting up to ``enough``; 0 if the bytes are no GIF. The blocks
   * are walked by their lengths (an image's pixel data, an extension's data, the colour tables), so no
   * byte inside them is taken for the start of a frame; a file cut short counts the frames before the cut.
   */
  function gifFrameCount(bytes, enough) {
    if (!/^GIF8[79]a$/.test(asciiAt(bytes, 0, 6)) || bytes.length < 13) return 0;
    let offset = 13 + colourTableBytes(bytes[10]); // header, logical screen descriptor, global colour table
    let frames = 0;
    while (offset < bytes.length && frames < enough) {
      const introducer = bytes[offset];
      if (introducer === 0x2c) {
        // image descriptor (10 bytes), local colour table, LZW minimum code size, then the data sub-blocks
        frames += 1;
        offset += 10 + colourTableBytes(offset + 9 < bytes.length ? bytes[offset + 9] : 0) + 1;
      } else if (introducer === 0x21) {
        offset += 2; // extension introducer and label, then the data sub-blocks
      } else {
        break; // the trailer (0x3b), or damage: nothing after it is drawn
      }
      while (offset < bytes.length && bytes[offset] !== 0) offset += bytes[offset] + 1;
      offset += 1; // the block terminator
    }
    return frames;
  }

  function colourTableBytes(packed) {
    return packed & 0x80 ? 3 << ((packed & 7) + 1) : 0;
  }

  window.CXR_FILE_CHECK = {
    inspectFile: inspectFile,
  };
})();
