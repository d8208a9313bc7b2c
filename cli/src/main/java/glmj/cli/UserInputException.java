package glmj.cli;

/** A problem with what the user asked for, reported as one line and exit code 2. */
final class UserInputException extends RuntimeException {
    UserInputException(String message) {
        super(message);
    }
}
