// Reading a photo in the browser and shrinking it before upload.

export const MAX_SIDE = 640;
export const JPEG_QUALITY = 0.85;
const IMAGE_NAME = /\.(jpe?g|jfif|png|gif|webp|avif|bmp|heic|heif|tiff?)$/i;

export class PhotoError extends Error {}

/** A cheap first check before decoding: the browser's type, or the name when it has none. */
export function looksLikeImage(file) {
  if (file.type) return file.type.startsWith("image/");
  return IMAGE_NAME.test(file.name || "");
}

/** Decode upright (EXIF orientation applied): an ImageBitmap, or an <img> where bitmaps fail. */
export async function decodePhoto(blob) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(blob, { imageOrientation: "from-image" });
    } catch {
      // Fall through: some browsers refuse the options or the format (SVG) but an <img> can read it.
    }
  }
  const url = URL.createObjectURL(blob);
  try {
    const image = new Image();
    image.decoding = "async";
    image.src = url;
    await image.decode();
    if (!image.naturalWidth || !image.naturalHeight) throw new Error("empty image");
    return image;
  } catch {
    throw new PhotoError("the browser cannot decode it");
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function sizeOf(source) {
  return {
    width: source.naturalWidth || source.videoWidth || source.width,
    height: source.naturalHeight || source.videoHeight || source.height,
  };
}

/** The size the photo is uploaded at: longest side at most MAX_SIDE, never enlarged. */
export function fitWithin({ width, height }, maxSide = MAX_SIDE) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/** Re-encode `source` as a JPEG of at most MAX_SIDE px: what is uploaded is what is drawn. */
export async function shrinkToJpeg(source) {
  const size = fitWithin(sizeOf(source));
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext("2d");
  context.fillStyle = "#ffffff"; // transparent PNG areas become white, not black
  context.fillRect(0, 0, size.width, size.height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.drawImage(source, 0, 0, size.width, size.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
  if (!blob) throw new PhotoError("the browser could not re-encode it as JPEG");
  return { blob, ...size };
}
