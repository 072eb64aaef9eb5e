// OverlayImage's front end (wasinn_nb/viz/widgets.py): a picture, and the class of the pixel
// under the pointer read from a class map the kernel sent once (one byte per pixel).
function bytesOf(view) {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function render({ model, el }) {
  const img = document.createElement("img");
  img.style.width = "100%";
  img.style.display = "block";
  img.draggable = false;
  const readout = document.createElement("div");
  readout.className = "wasinn-pixel-readout";
  readout.style.cssText = "font-size:12px;min-height:1.5em;color:#444;padding-top:2px";
  const idle = "hover over the picture to read a pixel's class";
  readout.textContent = idle;
  let url = null;

  function draw() {
    const blob = new Blob([bytesOf(model.get("value"))], { type: "image/" + model.get("format") });
    const old = url;
    url = URL.createObjectURL(blob);
    img.src = url;
    if (old) setTimeout(() => URL.revokeObjectURL(old), 1000);
  }

  img.addEventListener("mousemove", (event) => {
    const [height, width] = model.get("class_shape");
    const box = img.getBoundingClientRect();
    if (!height || !width || !box.width || !box.height) return;
    const x = Math.min(width - 1, Math.floor(((event.clientX - box.left) / box.width) * width));
    const y = Math.min(height - 1, Math.floor(((event.clientY - box.top) / box.height) * height));
    const index = bytesOf(model.get("classes"))[y * width + x];
    const label = model.get("labels")[index] ?? `class ${index}`;
    const [fullHeight, fullWidth] = model.get("image_shape");
    const px = Math.floor((x * fullWidth) / width), py = Math.floor((y * fullHeight) / height);
    readout.textContent = `pixel (${px}, ${py}): ${label}`;
  });
  img.addEventListener("mouseleave", () => { readout.textContent = idle; });
  model.on("change:value", draw);
  model.on("change:format", draw);
  draw();
  el.append(img, readout);
  return () => { if (url) URL.revokeObjectURL(url); };
}

export default { render };
