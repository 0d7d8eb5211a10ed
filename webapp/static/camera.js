// A webcam snapshot as the photo: offered only where a camera and a secure context exist.

export class Camera {
  /** `controls`: button, panel, video, shoot, cancel; `setStatus(state, message)`; `onSnapshot(blob)`. */
  constructor(controls, { setStatus, onSnapshot }) {
    this.ui = controls;
    this.stream = null;
    this.setStatus = setStatus;
    this.onSnapshot = onSnapshot;
    controls.button.addEventListener("click", () => this.start());
    controls.shoot.addEventListener("click", () => this.shoot());
    controls.cancel.addEventListener("click", () => {
      this.stop();
      this.setStatus("idle", "Choose a photo to begin.");
      this.ui.button.focus();
    });
  }

  /** Show the camera button when the browser has a camera to offer. */
  async setUp() {
    const media = navigator.mediaDevices;
    if (!media || typeof media.getUserMedia !== "function" || !window.isSecureContext) return;
    try {
      const devices = await media.enumerateDevices();
      if (!devices.some((device) => device.kind === "videoinput")) return;
    } catch {
      return;
    }
    this.ui.button.hidden = false;
  }

  stop() {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.ui.video.srcObject = null;
    this.ui.panel.hidden = true;
    delete document.body.dataset.camera;
  }

  async start() {
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 960 } },
        audio: false,
      });
    } catch (error) {
      const denied = error?.name === "NotAllowedError" || error?.name === "SecurityError";
      if (!denied) this.ui.button.hidden = true;
      this.setStatus("error", denied
        ? "Camera access was not allowed. Allow it in the browser's site settings, or choose a photo instead."
        : "No camera is available. Choose a photo instead.");
      return;
    }
    this.ui.video.srcObject = this.stream;
    this.ui.panel.hidden = false;
    document.body.dataset.camera = "on";
    await this.ui.video.play().catch(() => {});
    this.ui.shoot.focus();
    this.setStatus("idle", "Camera on. Press Capture when ready.");
  }

  async shoot() {
    const video = this.ui.video;
    if (!video.videoWidth) return;
    const frame = document.createElement("canvas");
    frame.width = video.videoWidth;
    frame.height = video.videoHeight;
    frame.getContext("2d").drawImage(video, 0, 0);
    this.stop();
    const blob = await new Promise((resolve) => frame.toBlob(resolve, "image/jpeg", 0.92));
    if (blob) this.onSnapshot(blob);
  }
}
