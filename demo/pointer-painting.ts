// Painting on a canvas with the pointer: the panels that let the user draw on a digit share it.

/**
 * Calls `paint` for the press of the primary button on `canvas` and for every move until it is
 * released, capturing the pointer so that a stroke may leave the canvas; `canStart()` false
 * ignores the press (the panel is busy, or has nothing to paint on).
 */
export function paintWhileDragging(canvas: HTMLCanvasElement, paint: (event: PointerEvent) => void, canStart: () => boolean): void {
  let drawing = false;
  canvas.addEventListener("pointerdown", (event) => {
    if (!canStart() || event.button !== 0) return;
    event.preventDefault();
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    paint(event);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    paint(event);
  });
  const end = (event: PointerEvent) => {
    drawing = false;
    if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
}
