"""The FastAPI application: images in, soundscape jobs, results out (docs/api.md).

    POST   /images                     upload an image (multipart field ``file``) -> {"image_id", ...}
    GET    /images/random              an example image, registered -> {"image_id", ...}
    POST   /soundscapes                {"image_id" | "caption", "style", "duration_s", "seed", ...} -> job (202)
    GET    /jobs/{id}                  status, progress, error
    DELETE /jobs/{id}                  cancel a queued or running job (409 once finished)
    GET    /soundscapes/{id}/mix       the mix (WAV)
    GET    /soundscapes/{id}/stems.zip every stem in one zip
    GET    /soundscapes/{id}/manifest  the manifest (JSON)

A soundscape's id is its job's id. Ids are random 32-hex strings, checked by pattern before any
lookup; files are found through the database, never from request text. With a token every
route needs ``Authorization: Bearer <token>``.

No ``from __future__ import annotations`` here: FastAPI reads the annotations of the routes
defined inside :func:`create_app` at run time.
"""


import hmac
import zipfile
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

from studio.api.jobs import FINAL, ID_PATTERN, Runner, Store

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "images"
DEFAULT_MAX_UPLOAD_BYTES = 20 * 2**20
DEFAULT_MAX_DURATION_S = 600.0


@dataclass(frozen=True)
class ApiSettings:
    """``data_dir`` holds the database and files; ``token`` None disables authentication;
    ``max_duration_s`` caps a requested track (the library allows up to 60 min)."""

    data_dir: Path
    token: Optional[str] = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_duration_s: float = DEFAULT_MAX_DURATION_S
    examples_dir: Path = EXAMPLES_DIR


def stop_runner(app: Any) -> None:
    """Cancel running jobs, drop queued ones (marked failed as interrupted) and stop the thread."""
    runner, app.state.runner = getattr(app.state, "runner", None), None
    if runner is not None:
        runner.shutdown()


def create_app(settings: ApiSettings) -> Any:
    """The ASGI app. Jobs run on a background thread started with the app (lifespan)."""
    from fastapi import Depends, FastAPI, File, HTTPException, Path as PathParam, UploadFile
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from pydantic import BaseModel, ConfigDict, Field, model_validator

    from studio import __version__
    from studio.errors import StudioError
    from studio.planning.styles import style_names
    from studio.types import MAX_SEED, MIN_DURATION_S

    store = Store(settings.data_dir)

    @asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            stop_runner(app)

    app = FastAPI(title="Soundscape Studio API", version=__version__, lifespan=lifespan,
                  description="Images to layered soundscapes. See docs/api.md.")
    bearer = HTTPBearer(auto_error=False)

    def authorise(creds: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> None:
        if settings.token is None:
            return
        if creds is None or not hmac.compare_digest(creds.credentials.encode(), settings.token.encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    app.state.runner = None

    def runner() -> Runner:
        # Started on first use rather than at startup, so an app driven without its lifespan
        # (some ASGI test clients) still runs jobs; stop_runner ends it.
        if app.state.runner is None:
            app.state.runner = Runner(store)
        return app.state.runner

    IdParam = PathParam(pattern=ID_PATTERN, description="an opaque id returned by this API (32 hex digits)")

    class ImageOut(BaseModel):
        image_id: str
        filename: str
        width: int
        height: int

    class SoundscapeRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        image_id: Optional[str] = Field(None, pattern=ID_PATTERN, description="from POST /images or GET /images/random")
        caption: Optional[str] = Field(None, min_length=1, max_length=2000, description="instead of (or to override) the image's caption")
        style: str = Field("meditation", description=f"one of: {', '.join(style_names())}")
        duration_s: float = Field(30.0, ge=MIN_DURATION_S, le=settings.max_duration_s)
        seed: int = Field(0, ge=0, le=MAX_SEED)
        captioner: Literal["analysis", "blip2", "blip"] = "analysis"
        planner: Literal["rules", "llm"] = "rules"

        @model_validator(mode="after")
        def _source(self) -> "SoundscapeRequest":
            if self.image_id is None and (self.caption is None or not self.caption.strip()):
                raise ValueError("give an image_id or a non-blank caption")
            if self.style not in style_names():
                raise ValueError(f"unknown style {self.style!r}; choose one of: {', '.join(style_names())}")
            return self

    class JobOut(BaseModel):
        job_id: str
        status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
        progress: float
        message: str
        error: Optional[str]
        created: float
        updated: float
        finished: Optional[float]
        request: dict[str, Any]
        results: Optional[dict[str, str]] = None

    def job_out(job) -> JobOut:
        results = None
        if job.status == "succeeded":
            base = f"/soundscapes/{job.id}"
            results = {"mix": f"{base}/mix", "stems": f"{base}/stems.zip", "manifest": f"{base}/manifest"}
        return JobOut(job_id=job.id, status=job.status, progress=job.progress, message=job.message, error=job.error,
                      created=job.created, updated=job.updated, finished=job.finished, request=job.request, results=results)

    def image_out(image_id: str) -> ImageOut:
        info = store.image(image_id)
        return ImageOut(image_id=image_id, filename=info["filename"], width=info["width"], height=info["height"])

    def register_image(data: bytes, filename: str, image_id: Optional[str] = None) -> str:
        from studio.vision.intake import load_image

        try:
            image = load_image(data, filename=filename, max_bytes=settings.max_upload_bytes)
        except StudioError as exc:
            raise HTTPException(422, str(exc)) from None
        info = image.info.get("studio", {})
        size = info.get("original_size") or image.size
        return store.add_image(data, filename=filename, fmt=str(info.get("format") or "img"), size=size, image_id=image_id)

    def finished_dir(job_id: str) -> Path:
        job = store.job(job_id)
        if job is None:
            raise HTTPException(404, "no soundscape with this id")
        if job.status != "succeeded":
            raise HTTPException(409, f"the job is {job.status}; results exist only once it has succeeded")
        return store.result_dir(job_id)

    deps = [Depends(authorise)]
    err = {401: {"description": "missing or wrong token"}, 404: {"description": "unknown id"}}

    @app.post("/images", response_model=ImageOut, status_code=201, dependencies=deps,
              responses={413: {"description": "too large"}, 422: {"description": "not a readable image"}})
    async def upload_image(file: UploadFile = File(..., description="an image file (JPEG, PNG, WEBP, GIF, BMP, TIFF)")) -> ImageOut:
        data = await file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, f"the image is larger than {settings.max_upload_bytes // 2**20} MB")
        name = Path(file.filename or "upload").name[:200] or "upload"
        return image_out(register_image(data, name))

    @app.get("/images/random", response_model=ImageOut, dependencies=deps, responses=err)
    def random_image() -> ImageOut:
        import hashlib
        import secrets

        examples = sorted(p for p in settings.examples_dir.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
        if not examples:
            raise HTTPException(404, "this server has no example images")
        path = secrets.choice(examples)
        fixed_id = hashlib.sha256(f"example:{path.name}".encode()).hexdigest()[:32]  # one id per example
        if store.image(fixed_id) is None:
            register_image(path.read_bytes(), path.name, image_id=fixed_id)
        return image_out(fixed_id)

    @app.post("/soundscapes", response_model=JobOut, status_code=202, dependencies=deps, responses=err)
    def create_soundscape(body: SoundscapeRequest) -> JobOut:
        if body.image_id is not None and store.image(body.image_id) is None:
            raise HTTPException(404, "no image with this image_id; upload one with POST /images")
        request = body.model_dump()
        if request["caption"] is not None:
            request["caption"] = request["caption"].strip()
        return job_out(runner().submit(request))

    @app.get("/jobs/{job_id}", response_model=JobOut, dependencies=deps, responses=err)
    def get_job(job_id: str = IdParam) -> JobOut:
        job = store.job(job_id)
        if job is None:
            raise HTTPException(404, "no job with this id")
        return job_out(job)

    @app.delete("/jobs/{job_id}", response_model=JobOut, dependencies=deps,
                responses={**err, 409: {"description": "the job has already finished"}})
    def cancel_job(job_id: str = IdParam) -> JobOut:
        job = store.job(job_id)
        if job is None:
            raise HTTPException(404, "no job with this id")
        if job.status in FINAL or not runner().cancel(job_id):
            job = store.job(job_id)
            if job.status in FINAL:
                raise HTTPException(409, f"the job has already {job.status}" if job.status != "cancelled" else "the job was already cancelled")
        return job_out(store.job(job_id))

    @app.get("/soundscapes/{job_id}/mix", dependencies=deps, response_class=FileResponse,
             responses={**err, 200: {"content": {"audio/wav": {}}}, 409: {"description": "not finished"}})
    def get_mix(job_id: str = IdParam) -> FileResponse:
        folder = finished_dir(job_id)
        mix = next(iter(sorted(folder.glob("mix.*"))), None)
        if mix is None:
            raise HTTPException(404, "this soundscape has no mix file")
        return FileResponse(mix, media_type="audio/wav", filename=f"soundscape-{job_id[:8]}{mix.suffix}")

    @app.get("/soundscapes/{job_id}/stems.zip", dependencies=deps, response_class=FileResponse,
             responses={**err, 200: {"content": {"application/zip": {}}}, 409: {"description": "not finished"}})
    def get_stems(job_id: str = IdParam) -> FileResponse:
        from studio.atomic import atomic_open

        folder = finished_dir(job_id)
        path = folder / "stems.zip"
        if not path.is_file():  # built once, on disk: stems of a long track do not fit in memory twice
            with atomic_open(path) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:  # WAV barely compresses
                for stem in sorted((folder / "stems").glob("*.*")):
                    zf.write(stem, f"stems/{stem.name}")
                zf.write(folder / "manifest.json", "manifest.json")
        return FileResponse(path, media_type="application/zip", filename=f"stems-{job_id[:8]}.zip")

    @app.get("/soundscapes/{job_id}/manifest", dependencies=deps, responses={**err, 409: {"description": "not finished"}})
    def get_manifest(job_id: str = IdParam) -> JSONResponse:
        import json

        folder = finished_dir(job_id)
        return JSONResponse(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))

    return app
