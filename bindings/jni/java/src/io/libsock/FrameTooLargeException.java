package io.libsock;

/**
 * A frame is larger than the framing's maximum length (code {@link ErrorKind#FRAME_TOO_LARGE}). Nothing of the size the peer claimed was allocated.
 */
public class FrameTooLargeException extends LibsockException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed
     * @param code the stable code (see {@link ErrorKind})
     * @param osError the OS error number, or 0
     */
    public FrameTooLargeException(String message, int code, int osError) {
        super(message, code, osError);
    }
}
