"""Reference model inputs made by Pillow, for src/node/image-resampling.test.ts.

Usage: /usr/bin/python3 scripts/reference/pil_resize.py OUT_DIR IMAGE...

For each IMAGE it writes, under OUT_DIR:
  - derived photos (lossless PNG, so every decoder reads the same pixels) of other sizes and aspect ratios:
    NAME.portrait.png (a tall centre strip), NAME.small.png (a thumbnail, enlarged by the model's resize),
    NAME.large.png (enlarged 2.5x, reduced strongly by the model's resize);
  - for each photo (the original and the derived ones) P: P.decoded.u8 (RGB bytes as Pillow decodes it) and
    P.SQUASH|CROP.WxH.u8 for the model inputs below:
      squash:      Image.resize((W, H), Image.BILINEAR)                 (how the golden inputs were made)
      center-crop: the centred square of the shorter side, then resize((W, H), Image.BILINEAR)
  - manifest.json: [{photo, width, height, decoded, inputs: [{policy, width, height, file}]}]
"""
import json
import os
import sys

from PIL import Image

SIZES = [(224, 224), (299, 299), (64, 64), (160, 96)]


def write(path, image):
    with open(path, "wb") as handle:
        handle.write(image.tobytes())


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    photos = []
    for source in sys.argv[2:]:
        name = os.path.splitext(os.path.basename(source))[0]
        image = Image.open(source).convert("RGB")
        photos.append((os.path.basename(source), source, image))
        width, height = image.size
        strip = image.crop((width // 3, 0, width // 3 + max(1, width // 3), height))
        small = image.resize((max(1, width // 6), max(1, height // 6)), Image.BILINEAR)
        large = image.resize((int(width * 2.5), int(height * 2.5)), Image.BILINEAR)
        for suffix, derived in (("portrait", strip), ("small", small), ("large", large)):
            path = os.path.join(out_dir, f"{name}.{suffix}.png")
            derived.save(path)
            photos.append((os.path.basename(path), path, Image.open(path).convert("RGB")))
    manifest = []
    for photo, path, image in photos:
        width, height = image.size
        decoded = f"{photo}.decoded.u8"
        write(os.path.join(out_dir, decoded), image)
        inputs = []
        for out_w, out_h in SIZES:
            file = f"{photo}.squash.{out_w}x{out_h}.u8"
            write(os.path.join(out_dir, file), image.resize((out_w, out_h), Image.BILINEAR))
            inputs.append({"policy": "squash", "width": out_w, "height": out_h, "file": file})
            if out_w == out_h:
                side = min(width, height)
                left, top = (width - side) // 2, (height - side) // 2
                cropped = image.crop((left, top, left + side, top + side))
                file = f"{photo}.center-crop.{out_w}x{out_h}.u8"
                write(os.path.join(out_dir, file), cropped.resize((out_w, out_h), Image.BILINEAR))
                inputs.append({"policy": "center-crop", "width": out_w, "height": out_h, "file": file})
        manifest.append({"photo": photo, "path": path, "width": width, "height": height, "decoded": decoded, "inputs": inputs})
    with open(os.path.join(out_dir, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1)


if __name__ == "__main__":
    main()
